// The periodic progress line on stderr: rates and totals per source and sink;
// per sink also rejected and lag (records, and seconds once known).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace sluice {

class SourceRunner;
class SinkRunner;
class Producer;
class Telemetry;

class Progress {
 public:
  Progress(std::string pipeline, const std::vector<std::unique_ptr<SourceRunner>>& sources,
           const std::vector<std::unique_ptr<SinkRunner>>& sinks, const Producer* producer,
           const Telemetry& telemetry);
  void report();

 private:
  std::string pipeline_;
  const std::vector<std::unique_ptr<SourceRunner>>& sources_;
  const std::vector<std::unique_ptr<SinkRunner>>& sinks_;
  const Producer* producer_;
  const Telemetry& telemetry_;  // a sink's lag in seconds
  std::vector<uint64_t> last_;
  std::chrono::steady_clock::time_point last_at_;
};

}  // namespace sluice
