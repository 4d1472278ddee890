#include "run/record_batch.h"

#include <algorithm>
#include <limits>

#include "sluice/error.h"

namespace sluice {

namespace {

uint32_t size32(std::string_view bytes) {
  // Kafka bounds a record far below this; a bigger one is a broken message.
  if (bytes.size() > std::numeric_limits<uint32_t>::max())
    throw Error(errc::fatal, "a consumed record of " + std::to_string(bytes.size()) + " bytes is too large");
  return static_cast<uint32_t>(bytes.size());
}

}  // namespace

size_t RecordBatch::record_overhead() { return sizeof(Record) + sizeof(Message); }

RecordBatch::RecordBatch(size_t max_records, size_t max_bytes)
    : max_records_(std::max<size_t>(max_records, 1)), max_bytes_(max_bytes) {
  // Reserved once, up to the bound: a batch never reallocates (and so never
  // holds old and new copies at once), and pages not yet written cost no memory.
  arena_.reserve(max_bytes_);
  records_.reserve(std::min(max_records_, max_bytes_ / record_overhead() + 1));
}

void RecordBatch::append(std::string_view bytes) { arena_.insert(arena_.end(), bytes.begin(), bytes.end()); }

bool RecordBatch::add(int32_t partition, int64_t offset, int64_t timestamp_ms, std::optional<std::string_view> key,
                      std::string_view value, std::span<const std::pair<std::string_view, std::string_view>> headers) {
  if (full()) return false;
  size_t cost = record_overhead() + (key ? key->size() : 0) + value.size();
  for (const auto& [name, header_value] : headers) cost += sizeof(Header) + name.size() + header_value.size();
  if (!records_.empty() && bytes_ + cost > max_bytes_) {
    refused_ = true;
    return false;
  }
  Record r{offset, timestamp_ms, arena_.size(), key ? size32(*key) : 0, size32(value), partition, key.has_value(),
           value.data() != nullptr, static_cast<uint32_t>(headers_.size()), 0};
  if (key) append(*key);
  append(value);
  for (const auto& [name, header_value] : headers) {
    headers_.push_back({arena_.size(), size32(name), size32(header_value), header_value.data() == nullptr});
    append(name);
    append(header_value);
  }
  r.headers_end = static_cast<uint32_t>(headers_.size());
  records_.push_back(r);
  bytes_ += cost;
  return true;
}

void read_headers(const rd_kafka_message_t& m, std::vector<std::pair<std::string_view, std::string_view>>& out) {
  out.clear();
  rd_kafka_headers_t* parsed = nullptr;
  if (rd_kafka_message_headers(&m, &parsed) != RD_KAFKA_RESP_ERR_NO_ERROR || !parsed) return;
  const char* name = nullptr;
  const void* value = nullptr;
  size_t size = 0;
  for (size_t i = 0; rd_kafka_header_get_all(parsed, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i)
    out.emplace_back(name, std::string_view(static_cast<const char*>(value), value ? size : 0));
}

bool RecordBatch::add(const rd_kafka_message_t& m, bool with_headers) {
  std::optional<std::string_view> key;
  if (m.key) key = std::string_view(static_cast<const char*>(m.key), m.key_len);
  std::string_view value(static_cast<const char*>(m.payload), m.payload ? m.len : 0);  // null stays null
  if (with_headers) read_headers(m, scratch_);
  else scratch_.clear();
  return add(m.partition, m.offset, rd_kafka_message_timestamp(&m, nullptr), key, value, scratch_);
}

Message RecordBatch::view(size_t i, std::string_view topic) const {
  const Record& r = records_[i];
  Message v;
  v.topic = topic;
  v.partition = r.partition;
  v.offset = r.offset;
  v.has_key = r.has_key;
  if (r.has_key) v.key = std::string_view(arena_.data() + r.begin, r.key_size);
  if (r.has_value) v.value = std::string_view(arena_.data() + r.begin + r.key_size, r.value_size);
  v.timestamp_ms = r.timestamp_ms;
  return v;
}

void RecordBatch::headers(size_t i, std::vector<std::pair<std::string_view, std::string_view>>& out) const {
  out.clear();
  const Record& r = records_[i];
  for (uint32_t h = r.headers_begin; h < r.headers_end; ++h) {
    const Header& header = headers_[h];
    std::string_view name(arena_.data() + header.begin, header.name_size);
    std::string_view value = header.null ? std::string_view()
                                         : std::string_view(arena_.data() + header.begin + header.name_size,
                                                            header.value_size);
    out.emplace_back(name, value);
  }
}

void RecordBatch::clear() {
  records_.clear();
  headers_.clear();
  arena_.clear();
  bytes_ = 0;
  refused_ = false;
  // One record far larger than the bound grew the arena: give that back.
  if (arena_.capacity() > 2 * max_bytes_) {
    std::vector<char>().swap(arena_);
    arena_.reserve(max_bytes_);
  }
}

}  // namespace sluice
