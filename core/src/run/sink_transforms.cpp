#include "run/sink_transforms.h"

#include <string>

namespace sluice {

namespace {

void read_headers(const rd_kafka_message_t* m, std::vector<HeaderView>& out) {
  out.clear();
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(m, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR || !headers) return;
  const char* name = nullptr;
  const void* value = nullptr;
  size_t size = 0;
  for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i)
    out.emplace_back(name, std::string_view(static_cast<const char*>(value), value ? size : 0));
}

}  // namespace

SinkTransforms::SinkTransforms(const StepConfig& step, bool sink_has_dead_letter)
    : chain_(step.transforms.scripts, TransformLimits{step.transforms.instructions, step.transforms.memory_bytes}),
      dead_letter_(sink_has_dead_letter),
      reject_log_(step.name, "the sink has no dead letter, so it is not written") {}

void SinkTransforms::apply(const std::vector<KafkaMessage>& consumed, const std::string& topic,
                           std::vector<Message>& views) {
  arena_.clear();
  reasons_.clear();
  outputs_.clear();
  entries_.clear();
  views.clear();
  for (size_t i = 0; i < consumed.size(); ++i) {
    const rd_kafka_message_t* m = consumed[i].get();
    RecordMeta meta;
    meta.topic = topic;
    meta.partition = m->partition;
    meta.offset = m->offset;
    if (m->key) meta.key = std::string_view(static_cast<const char*>(m->key), m->key_len);
    meta.timestamp_ms = rd_kafka_message_timestamp(m, nullptr);
    read_headers(m, headers_);
    meta.headers = headers_;
    Entry e{i, TransformOutcome::pass, outputs_.size(), 0, 0, 0};
    e.outcome = chain_.run({static_cast<const char*>(m->payload), m->len}, meta, arena_, outputs_);
    e.end_output = outputs_.size();
    if (e.outcome == TransformOutcome::reject) {
      rejected_.fetch_add(1, std::memory_order_relaxed);
      e.reason_begin = reasons_.size();
      reasons_ += chain_.reason();
      e.reason_end = reasons_.size();
      if (!dead_letter_)
        reject_log_.rejected(topic + "/" + std::to_string(m->partition) + " at offset " + std::to_string(m->offset),
                             chain_.reason());
    } else if (e.outcome == TransformOutcome::drop) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
    }
    entries_.push_back(e);
  }
  // Views only now: the buffers no longer grow.
  for (const Entry& e : entries_) {
    const rd_kafka_message_t* m = consumed[e.message].get();
    Message base = message_view(m, topic);
    if (e.outcome == TransformOutcome::drop) {
      if (!dead_letter_) continue;
      base.dropped = true;  // so that its offset is stored as consumed
      views.push_back(base);
      continue;
    }
    if (e.outcome == TransformOutcome::reject) {
      if (!dead_letter_) continue;
      base.reject_reason = std::string_view(reasons_).substr(e.reason_begin, e.reason_end - e.reason_begin);
      views.push_back(base);
      continue;
    }
    for (size_t o = e.first_output; o < e.end_output; ++o) {
      const TransformOutput& out = outputs_[o];
      Message v = base;
      v.value = std::string_view(arena_).substr(out.value_begin, out.value_end - out.value_begin);
      if (out.key_set) {
        v.has_key = !out.key_null;
        v.key = out.key_null ? std::string_view() : std::string_view(arena_).substr(out.key_begin, out.key_end - out.key_begin);
      }
      views.push_back(v);
    }
  }
}

}  // namespace sluice
