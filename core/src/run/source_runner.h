// Runs one source on its own thread, producing what it emits to its topic.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "config/pipeline.h"
#include "kafka/producer.h"
#include "run/key_extractor.h"
#include "run/stop_signal.h"
#include "sluice/source.h"

namespace sluice {

class SourceRunner : public Emitter {
 public:
  SourceRunner(const StepConfig& step, std::unique_ptr<Source> source, Producer& producer,
               StopSignal& stop);

  // Runs the source to its end; throws what the source or the producer threw.
  void run();

  void emit(std::string_view value, std::optional<std::string_view> key) override;
  bool stopping() const override { return stop_.requested(); }
  bool wait_for(double seconds) override;

  const std::string& name() const { return name_; }
  const std::string& topic() const { return topic_name_; }
  bool finite() const { return source_->finite(); }
  uint64_t emitted() const { return emitted_.load(std::memory_order_relaxed); }

 private:
  std::string name_, topic_name_;
  std::unique_ptr<Source> source_;
  Producer& producer_;
  rd_kafka_topic_t* topic_;
  std::optional<KeyExtractor> key_;
  StopSignal& stop_;
  std::atomic<uint64_t> emitted_{0};
};

}  // namespace sluice
