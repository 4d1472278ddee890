#include "scheduler.h"

namespace http_checker {

Scheduler::Scheduler(const std::vector<std::chrono::milliseconds>& intervals, Time start)
    : intervals_(intervals), slot_(intervals.size()) {
  std::vector<Entry> entries;
  entries.reserve(intervals.size());
  const auto n = static_cast<int64_t>(intervals.size());
  for (int64_t i = 0; i < n; ++i) {
    // Evenly over the interval, in file order: target i of n starts at i/n of
    // it (in floating point: interval * i overflows nanoseconds for long lists).
    auto offset = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double, std::milli>(static_cast<double>(intervals_[i].count()) *
                                                  static_cast<double>(i) / static_cast<double>(n)));
    slot_[i] = start + offset;
    entries.push_back({slot_[i], static_cast<size_t>(i)});
  }
  waiting_ = decltype(waiting_)(std::greater<>(), std::move(entries));
}

std::optional<Scheduler::Due> Scheduler::pop_due(Time now) {
  if (waiting_.empty() || waiting_.top().due > now) return std::nullopt;
  Entry e = waiting_.top();
  waiting_.pop();
  return Due{e.target, now - e.due};
}

void Scheduler::done(size_t target, Time now) {
  const auto interval = std::chrono::duration_cast<Clock::duration>(intervals_[target]);
  Time next;
  if (interval.count() == 0) {
    next = now;
  } else {
    next = slot_[target] + interval;
    if (next < now) {
      // The check outlasted its interval: the slots that passed are skipped,
      // and the next one stays on the grid.
      auto missed = (now - next) / interval + 1;
      skipped_ += static_cast<uint64_t>(missed);
      next += interval * missed;
    }
  }
  slot_[target] = next;
  waiting_.push({next, target});
}

std::optional<Scheduler::Time> Scheduler::next_due() const {
  if (waiting_.empty()) return std::nullopt;
  return waiting_.top().due;
}

}  // namespace http_checker
