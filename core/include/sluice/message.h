// A record as a sink sees it: a view into a consumed Kafka message (or into
// what a transform made of it), valid for the duration of the Sink::write call
// that receives it. A transform that splits a record yields several messages
// with the same partition and offset, in order.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <utility>

namespace sluice {

struct Message {
  std::string_view topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::string_view key;
  bool has_key = false;
  std::string_view value;
  int64_t timestamp_ms = -1;  // -1: the broker gave none
  // Set when a transform upstream of the sink rejected the record; `value` is
  // then the record as consumed. A sink with a dead letter stores it there with
  // this reason, in the same transaction as the batch's rows.
  std::string_view reject_reason;
  // Set when a transform dropped the record: there is nothing to write, but
  // its offset counts as consumed. Only a sink that keeps_rejects() (and so
  // stores its own offsets) is given these.
  bool dropped = false;
  // The record's headers (name, value; a value of nullptr data is null),
  // given only to a sink that wants_headers() and has no transforms:
  // reading them costs an allocation per consumed message.
  std::span<const std::pair<std::string_view, std::string_view>> headers;
};

}  // namespace sluice
