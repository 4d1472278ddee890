#include "write_timings.h"

#include <fmt/format.h>

namespace pgsink {

namespace {
const char* const kStepNames[] = {"begin", "encode", "send", "copy end", "rejects", "offsets CAS", "commit"};
static_assert(std::size(kStepNames) == static_cast<size_t>(WriteStep::count));
}  // namespace

void WriteTimings::end_batch(size_t rows) {
  for (size_t i = 0; i < batch_.size(); ++i) total_[i] += batch_[i];
  last_ = batch_;
  batch_ = {};
  ++batches_;
  rows_ += rows;
}

std::string WriteTimings::describe(const Steps& steps, size_t batches) {
  std::string out;
  Clock::duration sum{};
  for (size_t i = 0; i < steps.size(); ++i) {
    sum += steps[i];
    out += fmt::format("{}{} {:.1f} ms", i ? ", " : "", kStepNames[i],
                       std::chrono::duration<double, std::milli>(steps[i]).count());
  }
  out += fmt::format(" (sum {:.1f} ms over {} batches)", std::chrono::duration<double, std::milli>(sum).count(),
                     batches);
  return out;
}

}  // namespace pgsink
