// Logs records a transform rejected where they have no dead letter to go to:
// the first one in full, then at most one summary line per interval, so a
// stream of bad records cannot flood the log.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace sluice {

class RejectLog {
 public:
  RejectLog(std::string who, std::string where_to) : who_(std::move(who)), where_to_(std::move(where_to)) {}
  // `place`: topic/partition/offset or whatever locates the record.
  void rejected(std::string_view place, std::string_view reason);

 private:
  std::string who_, where_to_;
  uint64_t total_ = 0, unlogged_ = 0;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace sluice
