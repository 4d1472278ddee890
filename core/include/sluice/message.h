// A record as a sink sees it: a view into a consumed Kafka message, valid for
// the duration of the Sink::write call that receives it.
#pragma once

#include <cstdint>
#include <string_view>

namespace sluice {

struct Message {
  std::string_view topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::string_view key;
  bool has_key = false;
  std::string_view value;
  int64_t timestamp_ms = -1;  // -1: the broker gave none
};

}  // namespace sluice
