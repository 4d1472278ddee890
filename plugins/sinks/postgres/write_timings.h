// Where a batch's write spends its time, step by step: logged per batch at
// debug level and in total when the sink ends, to see what to make faster
// (encoding, streaming COPY data, PostgreSQL finishing the COPY, the offsets'
// compare-and-set, COMMIT's WAL flush).
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <string>

namespace pgsink {

enum class WriteStep { begin, encode, send, copy_end, rejects, offsets, commit, count };

class WriteTimings {
 public:
  using Clock = std::chrono::steady_clock;

  // Adds the time since `since` to `step` and returns now.
  Clock::time_point add(WriteStep step, Clock::time_point since) {
    const auto now = Clock::now();
    batch_[static_cast<size_t>(step)] += now - since;
    return now;
  }
  Clock::duration in_batch(WriteStep step) const { return batch_[static_cast<size_t>(step)]; }
  void subtract(WriteStep step, Clock::duration d) { batch_[static_cast<size_t>(step)] -= d; }
  // Ends a batch of `rows` rows: folds it into the totals.
  void end_batch(size_t rows);
  // "begin 1.2 ms, encode 30.1 ms, ..." of the last batch, or of all of them.
  std::string last_batch() const { return describe(last_, 1); }
  std::string totals() const { return describe(total_, batches_); }
  size_t batches() const { return batches_; }
  size_t rows() const { return rows_; }

 private:
  using Steps = std::array<Clock::duration, static_cast<size_t>(WriteStep::count)>;
  static std::string describe(const Steps& steps, size_t batches);
  Steps batch_{}, last_{}, total_{};
  size_t batches_ = 0, rows_ = 0;
};

// Times one step of a scope: adds its time to `step` when it ends.
class StepTimer {
 public:
  StepTimer(WriteTimings& timings, WriteStep step) : timings_(timings), step_(step), start_(WriteTimings::Clock::now()) {}
  ~StepTimer() { timings_.add(step_, start_); }
  StepTimer(const StepTimer&) = delete;
  StepTimer& operator=(const StepTimer&) = delete;

 private:
  WriteTimings& timings_;
  WriteStep step_;
  WriteTimings::Clock::time_point start_;
};

}  // namespace pgsink
