// When each target is due. Every target keeps its own grid of slots,
// start + offset + k * interval, so timings never drift however long checks
// take. First checks are spread over the interval (no thundering herd). A
// target is never due while its check is in flight: slots that pass meanwhile
// are skipped and counted.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <queue>
#include <vector>

namespace http_checker {

class Scheduler {
 public:
  using Clock = std::chrono::steady_clock;
  using Time = Clock::time_point;

  struct Due {
    size_t target;
    Clock::duration lag;  // how late the check starts against its slot
  };

  // An interval of 0 means "again as soon as the previous check ends".
  Scheduler(const std::vector<std::chrono::milliseconds>& intervals, Time start);

  // The next target whose slot has come, marked in flight; nullopt if none yet.
  std::optional<Due> pop_due(Time now);
  // The check of `target` ended at `now`: schedule its next slot.
  void done(size_t target, Time now);
  // The earliest slot waiting, if any target is not in flight.
  std::optional<Time> next_due() const;

  uint64_t skipped_slots() const { return skipped_; }

 private:
  struct Entry {
    Time due;
    size_t target;
    bool operator>(const Entry& o) const { return due > o.due; }
  };
  std::vector<std::chrono::milliseconds> intervals_;
  std::vector<Time> slot_;  // the slot of each target's current or next check
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> waiting_;
  uint64_t skipped_ = 0;
};

}  // namespace http_checker
