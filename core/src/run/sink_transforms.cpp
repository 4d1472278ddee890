#include "run/sink_transforms.h"

#include <string>

namespace sluice {

namespace {

// A consumed record's timestamp and headers, read only when a script asks:
// the headers from its Kafka message, still held.
class BatchMeta final : public LazyMeta {
 public:
  BatchMeta(const RecordBatch& batch, size_t record, const rd_kafka_message_t& message)
      : batch_(batch), record_(record), message_(message) {}
  int64_t timestamp_ms() const override { return batch_.timestamp_ms(record_); }
  std::span<const HeaderView> headers() const override {
    if (!read_) read_headers(message_, headers_);
    read_ = true;
    return headers_;
  }

 private:
  const RecordBatch& batch_;
  size_t record_;
  const rd_kafka_message_t& message_;
  mutable bool read_ = false;
  mutable std::vector<HeaderView> headers_;
};

}  // namespace

SinkTransforms::SinkTransforms(const StepConfig& step, bool sink_has_dead_letter, StepTelemetry& telemetry)
    : chain_(step.transforms.scripts, TransformLimits{step.transforms.instructions, step.transforms.memory_bytes}),
      dead_letter_(sink_has_dead_letter),
      reject_log_(step.name, "the sink has no dead letter, so it is not written"),
      telemetry_(telemetry) {
  chain_.attach_metrics(telemetry.registry(), telemetry.labels());
}

void SinkTransforms::run(const RecordBatch& consumed, size_t from, std::span<const KafkaMessage> messages,
                         const std::string& topic, std::vector<Message>& views,
                         std::vector<std::pair<size_t, const char*>>& reject_classes) {
  uint64_t dropped = 0;
  if (from == 0) {
    Made& fresh = made_[turn_ ^= 1];
    fresh.arena.clear();
    fresh.reasons.clear();
    fresh.outputs.clear();
    fresh.pending.clear();
    views.clear();
    reject_classes.clear();
  }
  Made& made = made_[turn_];
  // Each record is read once, here: by the time a second pass came back to
  // it, the batch would have pushed it out of the cache.
  for (size_t record = from; record < consumed.size(); ++record) {
    const Message base = consumed.view(record, topic);
    BatchMeta lazy(consumed, record, *messages[record - from]);
    RecordMeta meta;
    meta.topic = topic;
    meta.partition = base.partition;
    meta.offset = base.offset;
    if (base.has_key) meta.key = base.key;
    meta.lazy = &lazy;
    const size_t first_output = made.outputs.size();
    const TransformOutcome outcome = chain_.run(base.value, meta, made.arena, made.outputs);
    if (outcome == TransformOutcome::reject) {
      rejected_.fetch_add(1, std::memory_order_relaxed);
      if (!dead_letter_) {
        reject_log_.rejected(topic + "/" + std::to_string(base.partition) + " at offset " + std::to_string(base.offset),
                             chain_.reason());
        RejectedRecord r;
        r.topic = topic;
        r.partition = base.partition;
        r.offset = base.offset;
        r.reason = chain_.reason();
        r.record = std::string(base.value.substr(0, RejectedRecord::kRecordCut));
        telemetry_.reject(chain_.reject_class(), std::move(r));
        continue;
      }
      reject_classes.emplace_back(views.size(), chain_.reject_class());
      const size_t begin = made.reasons.size();
      made.reasons += chain_.reason();
      made.pending.push_back({views.size(), outcome, 0, begin, made.reasons.size()});
      views.push_back(base);
    } else if (outcome == TransformOutcome::drop) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      ++dropped;
      if (!dead_letter_) continue;
      views.push_back(base);
      views.back().dropped = true;  // so that its offset is stored as consumed
    } else {
      for (size_t o = first_output; o < made.outputs.size(); ++o) {
        made.pending.push_back({views.size(), outcome, o, 0, 0});
        views.push_back(base);
      }
    }
  }
  telemetry_.dropped.add(dropped);
}

void SinkTransforms::finish(std::vector<Message>& views) {
  const Made& made = made_[turn_];
  // The buffers no longer grow: their views can be taken.
  for (const Pending& p : made.pending) {
    Message& v = views[p.view];
    if (p.outcome == TransformOutcome::reject) {
      v.reject_reason = std::string_view(made.reasons).substr(p.reason_begin, p.reason_end - p.reason_begin);
      continue;
    }
    const TransformOutput& out = made.outputs[p.output];
    v.value = out.value(made.arena, v.value);
    if (out.key_set) {
      v.has_key = !out.key_null;
      v.key = out.key_null ? std::string_view() : std::string_view(made.arena).substr(out.key_begin, out.key_end - out.key_begin);
    }
  }
}

}  // namespace sluice
