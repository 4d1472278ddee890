#include "run/source_runner.h"

#include <chrono>

#include "sluice/error.h"

namespace sluice {

SourceRunner::SourceRunner(const StepConfig& step, std::unique_ptr<Source> source,
                           Producer& producer, StopSignal& stop, StepTelemetry& telemetry,
                           const StoredDownstream* downstream)
    : name_(step.name),
      topic_name_(step.topic),
      source_(std::move(source)),
      producer_(producer),
      topic_(producer.topic(step.topic)),
      stop_(stop),
      telemetry_(telemetry),
      downstream_(downstream),
      delivered_(producer.delivery_counts(
          {telemetry.records_out, telemetry.bytes_out,
           telemetry.registry().counter("sluice_source_delivery_failures_total",
                                        "Records of a source whose delivery to Kafka failed for good",
                                        telemetry.labels())})) {
  if (auto it = step.values.find("key"); it != step.values.end())
    if (auto* field = std::get_if<std::string>(&it->second)) key_.emplace(*field);
  if (!step.transforms.scripts.empty()) {
    chain_ = std::make_unique<TransformChain>(step.transforms.scripts,
                                              TransformLimits{step.transforms.instructions, step.transforms.memory_bytes});
    if (!step.transforms.dead_letter_topic.empty()) dead_letter_ = producer.topic(step.transforms.dead_letter_topic);
    reject_log_ = std::make_unique<RejectLog>(name_, dead_letter_ ? "sent to the dead-letter topic" : "no dead_letter_topic, so it is not produced");
    chain_->attach_metrics(telemetry.registry(), telemetry.labels());
  }
}

void SourceRunner::run() {
  telemetry_.set_state(StepState::up);
  try {
    source_->run(*this);
  } catch (const Error& e) {
    telemetry_.set_state(stop_.requested() && (e.retriable() || e.stopped()) ? StepState::stopped : StepState::failed,
                         e.what());
    throw;
  } catch (const std::exception& e) {
    telemetry_.set_state(StepState::failed, e.what());
    throw;
  }
  telemetry_.set_state(StepState::stopped);
}

// One relaxed add per record; the heartbeat's clock is read once per 1024.
void SourceRunner::emitted_one() {
  telemetry_.records_in.add();
  static thread_local uint32_t since_beat = 0;
  if ((++since_beat & 1023) == 0) telemetry_.beat();
}

void SourceRunner::rejected_one(std::string_view value) {
  RejectedRecord r;
  r.topic = topic_name_;
  r.reason = chain_->reason();
  r.record = std::string(value.substr(0, RejectedRecord::kRecordCut));
  telemetry_.reject(chain_->reject_class(), std::move(r));
}

void SourceRunner::emit_with_headers(std::string_view value, std::optional<std::string_view> key,
                                     std::span<const std::pair<std::string_view, std::string_view>> headers) {
  // A source may emit from several threads; the transform chain and the key
  // extractor are one per source, so they are used under a lock. Producing
  // itself is thread-safe. Scripts set the headers of what they make.
  if (chain_) {
    std::lock_guard lock(emit_mutex_);
    return emit_transformed(value, key);
  }
  if (!key && key_) {
    // The extracted key lives in the extractor until its next call.
    std::lock_guard lock(emit_mutex_);
    std::optional<std::string_view> extracted = key_->extract(value);
    tap_produced(extracted, value);
    producer_.produce(topic_, extracted, value, headers, stop_.flag(), delivered_);
    emitted_one();
    return;
  }
  tap_produced(key, value);
  producer_.produce(topic_, key, value, headers, stop_.flag(), delivered_);
  emitted_one();
}

void SourceRunner::emit_transformed(std::string_view value, std::optional<std::string_view> key) {
  const bool key_given = key.has_value();
  if (!key && key_) key = key_->extract(value);
  RecordMeta meta;
  meta.topic = topic_name_;
  meta.key = key;
  meta.timestamp_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  arena_.clear();
  outputs_.clear();
  TransformOutcome outcome = chain_->run(value, meta, arena_, outputs_);
  emitted_one();
  if (outcome == TransformOutcome::drop) {
    telemetry_.dropped.add();
    return;
  }
  if (outcome == TransformOutcome::reject) {
    rejected_one(value);
    if (dead_letter_) {
      headers_.assign({{"sluice.reason", chain_->reason()}});
      producer_.produce(dead_letter_, key, value, headers_, stop_.flag());
    } else {
      reject_log_->rejected("from " + name_, chain_->reason());
    }
    return;
  }
  std::string_view all(arena_);
  for (const TransformOutput& out : outputs_) {
    std::string_view v = out.value(all, value);
    std::optional<std::string_view> k = key;
    if (out.key_set) k = out.key_null ? std::nullopt : std::optional(all.substr(out.key_begin, out.key_end - out.key_begin));
    else if (key_ && !key_given) k = key_->extract(v);  // the key field of what the transforms made
    headers_.clear();
    for (const auto& [name, text] : out.headers) headers_.emplace_back(name, text);
    tap_produced(k, v);
    producer_.produce(topic_, k, v, headers_, stop_.flag(), delivered_);
  }
}

bool SourceRunner::wait_for(double seconds) {
  telemetry_.beat();
  if (seconds <= 0) return !stop_.requested();
  return !stop_.wait_for(std::chrono::ceil<std::chrono::milliseconds>(std::chrono::duration<double>(seconds)));
}

// The producer's flush, in slices so that a stop is noticed; after a stop it
// goes on for a grace period, as a clean stop wants the state saved too. On
// the embedded broker it then waits for this process's sinks, but not past a
// stop: they no longer read, so the state stays where the stored records are.
bool SourceRunner::wait_delivered() {
  using Clock = std::chrono::steady_clock;
  constexpr auto kGraceAfterStop = std::chrono::seconds(10);
  std::optional<Clock::time_point> give_up;
  while (!producer_.flush(std::chrono::milliseconds(100)) && producer_.failure().empty()) {
    if (!stop_.requested()) continue;
    if (!give_up) give_up = Clock::now() + kGraceAfterStop;
    else if (Clock::now() >= *give_up) return false;
  }
  if (std::string failure = producer_.failure(); !failure.empty())
    throw Error(errc::fatal, "a record was not delivered to Kafka: " + failure);
  return downstream_ == nullptr || downstream_->wait_stored(producer_.handle(), topic_name_, stop_);
}

}  // namespace sluice
