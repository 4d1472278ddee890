// The records of one sink batch, copied out of the consumed Kafka messages
// into one byte arena, so that each message (and the fetch buffer it pins
// inside librdkafka) is released as soon as it is read. Bounded by records
// and by bytes; the arena and the index are kept from batch to batch, so a
// steady stream allocates nothing per record.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "kafka/handles.h"
#include "sluice/message.h"

namespace sluice {

// Fills `out` (cleared first) with a consumed message's headers, viewing
// the message (a value of nullptr data is null).
void read_headers(const rd_kafka_message_t& m, std::vector<std::pair<std::string_view, std::string_view>>& out);

class RecordBatch {
 public:
  // `max_bytes` bounds what the batch holds: keys, values, headers and
  // record_overhead() per record. A single record larger than that is still
  // taken, alone, so that no record can block a sink.
  RecordBatch(size_t max_records, size_t max_bytes);

  // What a batch holds per record beside its bytes: the index entry and the
  // Message view a sink is given for it.
  static size_t record_overhead();

  // Copies one record in; false (and nothing copied) when it does not fit.
  // A value or header value of nullptr data is null, and stays so in views.
  bool add(int32_t partition, int64_t offset, int64_t timestamp_ms, std::optional<std::string_view> key,
           std::string_view value, std::span<const std::pair<std::string_view, std::string_view>> headers = {});

  // The same for a consumed message; its headers only when `with_headers`
  // (parsing them costs an allocation per message, with no header at all;
  // scripts read them from the message, and only when asked).
  bool add(const rd_kafka_message_t& m, bool with_headers);

  // True once a record was refused or the record count is reached.
  bool full() const { return refused_ || records_.size() >= max_records_; }
  bool empty() const { return records_.empty(); }
  size_t size() const { return records_.size(); }
  size_t bytes() const { return bytes_; }
  // The records' own bytes: keys, values and headers (what metrics count).
  size_t payload_bytes() const { return arena_.size(); }

  // Views into the arena: valid until the next add() or clear().
  Message view(size_t i, std::string_view topic) const;
  // Fills `out` (cleared first) with record i's headers.
  void headers(size_t i, std::vector<std::pair<std::string_view, std::string_view>>& out) const;
  int32_t partition(size_t i) const { return records_[i].partition; }
  int64_t offset(size_t i) const { return records_[i].offset; }
  int64_t timestamp_ms(size_t i) const { return records_[i].timestamp_ms; }

  // Empties the batch, keeping its memory for the next one (unless one
  // oversized record grew it well past the bound).
  void clear();

 private:
  struct Record {  // ranges of arena_
    int64_t offset, timestamp_ms;
    size_t begin;  // the key's bytes, then the value's
    uint32_t key_size, value_size;
    int32_t partition;
    bool has_key, has_value;  // a null value (a tombstone) stays null
    uint32_t headers_begin, headers_end;  // range of headers_
  };
  struct Header {
    size_t begin;  // the name's bytes, then the value's
    uint32_t name_size, value_size;
    bool null;
  };

  void append(std::string_view bytes);

  size_t max_records_, max_bytes_;
  std::vector<char> arena_;
  std::vector<Record> records_;
  std::vector<Header> headers_;
  size_t bytes_ = 0;
  bool refused_ = false;
  // Reused by add() of a consumed message.
  std::vector<std::pair<std::string_view, std::string_view>> scratch_;
};

}  // namespace sluice
