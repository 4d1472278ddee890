#include "run/reject_log.h"

#include <spdlog/spdlog.h>

namespace sluice {

void RejectLog::rejected(std::string_view place, std::string_view reason) {
  ++total_;
  auto now = std::chrono::steady_clock::now();
  if (total_ > 1 && now - last_ < std::chrono::seconds(10)) {
    ++unlogged_;
    return;
  }
  if (unlogged_ == 0)
    spdlog::warn("{}: record {} rejected by a transform, {}: {}", who_, place, where_to_, reason);
  else
    spdlog::warn("{}: {} more records rejected by transforms ({} in all), {}; latest at {}: {}", who_,
                 unlogged_, total_, where_to_, place, reason);
  unlogged_ = 0;
  last_ = now;
}

}  // namespace sluice
