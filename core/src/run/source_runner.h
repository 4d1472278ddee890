// Runs one source on its own thread, producing what it emits to its topic.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/pipeline.h"
#include "kafka/producer.h"
#include "observe/telemetry.h"
#include "run/key_extractor.h"
#include "run/reject_log.h"
#include "run/stop_signal.h"
#include "run/stored_downstream.h"
#include "sluice/source.h"
#include "transform/transform_chain.h"

namespace sluice {

class SourceRunner : public Emitter {
 public:
  // `downstream`: with the embedded broker, the sinks of this process, whose
  // storing is what makes a record durable (see StoredDownstream); else null.
  SourceRunner(const StepConfig& step, std::unique_ptr<Source> source, Producer& producer,
               StopSignal& stop, StepTelemetry& telemetry, const StoredDownstream* downstream = nullptr);

  // Runs the source to its end; throws what the source or the producer threw.
  void run();

  void emit(std::string_view value, std::optional<std::string_view> key) override { emit_with_headers(value, key, {}); }
  void emit_with_headers(std::string_view value, std::optional<std::string_view> key,
                         std::span<const std::pair<std::string_view, std::string_view>> headers) override;
  bool stopping() const override { return stop_.requested(); }
  bool wait_for(double seconds) override;
  bool wait_delivered() override;

  const std::string& name() const { return name_; }
  const std::string& topic() const { return topic_name_; }
  bool finite() const { return source_->finite(); }
  uint64_t emitted() const { return telemetry_.records_in.value(); }
  uint64_t dropped() const { return telemetry_.dropped.value(); }
  uint64_t rejected() const { return telemetry_.rejected(); }

 private:
  std::string name_, topic_name_;
  std::unique_ptr<Source> source_;
  Producer& producer_;
  rd_kafka_topic_t* topic_;
  std::optional<KeyExtractor> key_;
  StopSignal& stop_;
  StepTelemetry& telemetry_;  // counters and state, for /metrics and /api/status
  const StoredDownstream* downstream_;
  DeliveryCounts* delivered_;  // Kafka's acknowledgements of this step's records (the producer's)
  void emitted_one();
  void rejected_one(std::string_view value);

  // What is produced (after the transforms), for an open tap; otherwise one relaxed load.
  void tap_produced(std::optional<std::string_view> key, std::string_view value) {
    if (telemetry_.tap.watched()) telemetry_.tap.offer(topic_name_, -1, -1, -1, key, value);
  }

  // Transforms run before producing: a reject goes to the dead-letter topic.
  void emit_transformed(std::string_view value, std::optional<std::string_view> key);
  std::mutex emit_mutex_;
  std::unique_ptr<TransformChain> chain_;
  rd_kafka_topic_t* dead_letter_ = nullptr;
  std::unique_ptr<RejectLog> reject_log_;
  std::string arena_;
  std::vector<TransformOutput> outputs_;
  std::vector<std::pair<std::string_view, std::string_view>> headers_;
};

}  // namespace sluice
