// `sluice check --connect`: the Kafka side. Asks the cluster the pipeline
// names for its metadata and for the newest records of the sinks' topics,
// with the pipeline's own [kafka] settings, within a timeout; writes nothing
// (no topic created, no offset committed, no group joined).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "config/pipeline.h"
#include "sluice/plugin_info.h"

namespace sluice::cli {

// One line of the report: "ok   kafka: ..." or "FAIL sinks.store: ...".
struct CheckLine {
  bool ok = false;
  std::string subject;  // "kafka", "sinks.store"
  std::string text;
};

class KafkaConnectCheck {
 public:
  KafkaConnectCheck(const PipelineConfig& config, std::chrono::milliseconds timeout);
  ~KafkaConnectCheck();
  KafkaConnectCheck(const KafkaConnectCheck&) = delete;
  KafkaConnectCheck& operator=(const KafkaConnectCheck&) = delete;

  // Connects and checks every topic of the pipeline.
  std::vector<CheckLine> run();

  // For a sink: the newest record of each partition of `topic` (a few
  // partitions at most), or none with `note` saying why. A topic this role
  // may not read is a FAIL line in `problems`.
  // `origins` gets where each record is.
  std::vector<std::string> recent_records(const std::string& topic, std::string& note,
                                          std::vector<CheckLine>& problems, std::vector<std::string>& origins);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace sluice::cli
