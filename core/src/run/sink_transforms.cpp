#include "run/sink_transforms.h"

#include <string>

namespace sluice {

namespace {

// A consumed message's timestamp and headers, read from it only when a
// script asks: parsing the headers costs an allocation per message.
class KafkaMeta final : public LazyMeta {
 public:
  explicit KafkaMeta(const rd_kafka_message_t* m) : m_(m) {}
  int64_t timestamp_ms() const override { return rd_kafka_message_timestamp(m_, nullptr); }
  std::span<const HeaderView> headers() const override {
    if (read_) return headers_;
    read_ = true;
    rd_kafka_headers_t* headers = nullptr;
    if (rd_kafka_message_headers(m_, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR || !headers) return headers_;
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i)
      headers_.emplace_back(name, std::string_view(static_cast<const char*>(value), value ? size : 0));
    return headers_;
  }

 private:
  const rd_kafka_message_t* m_;
  mutable bool read_ = false;
  mutable std::vector<HeaderView> headers_;
};

}  // namespace

SinkTransforms::SinkTransforms(const StepConfig& step, bool sink_has_dead_letter)
    : chain_(step.transforms.scripts, TransformLimits{step.transforms.instructions, step.transforms.memory_bytes}),
      dead_letter_(sink_has_dead_letter),
      reject_log_(step.name, "the sink has no dead letter, so it is not written") {}

void SinkTransforms::apply(const std::vector<KafkaMessage>& consumed, const std::string& topic,
                           std::vector<Message>& views) {
  Made& made = made_[turn_ ^= 1];
  made.arena.clear();
  made.reasons.clear();
  made.outputs.clear();
  made.entries.clear();
  views.clear();
  for (size_t i = 0; i < consumed.size(); ++i) {
    const rd_kafka_message_t* m = consumed[i].get();
    KafkaMeta lazy(m);
    RecordMeta meta;
    meta.topic = topic;
    meta.partition = m->partition;
    meta.offset = m->offset;
    if (m->key) meta.key = std::string_view(static_cast<const char*>(m->key), m->key_len);
    meta.lazy = &lazy;
    Entry e{i, TransformOutcome::pass, made.outputs.size(), 0, 0, 0};
    e.outcome = chain_.run({static_cast<const char*>(m->payload), m->len}, meta, made.arena, made.outputs);
    e.end_output = made.outputs.size();
    if (e.outcome == TransformOutcome::reject) {
      rejected_.fetch_add(1, std::memory_order_relaxed);
      e.reason_begin = made.reasons.size();
      made.reasons += chain_.reason();
      e.reason_end = made.reasons.size();
      if (!dead_letter_)
        reject_log_.rejected(topic + "/" + std::to_string(m->partition) + " at offset " + std::to_string(m->offset),
                             chain_.reason());
    } else if (e.outcome == TransformOutcome::drop) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
    }
    made.entries.push_back(e);
  }
  // Views only now: the buffers no longer grow.
  for (const Entry& e : made.entries) {
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
      base.reject_reason = std::string_view(made.reasons).substr(e.reason_begin, e.reason_end - e.reason_begin);
      views.push_back(base);
      continue;
    }
    for (size_t o = e.first_output; o < e.end_output; ++o) {
      const TransformOutput& out = made.outputs[o];
      Message v = base;
      v.value = std::string_view(made.arena).substr(out.value_begin, out.value_end - out.value_begin);
      if (out.key_set) {
        v.has_key = !out.key_null;
        v.key = out.key_null ? std::string_view() : std::string_view(made.arena).substr(out.key_begin, out.key_end - out.key_begin);
      }
      views.push_back(v);
    }
  }
}

}  // namespace sluice
