// The periodic progress line on stderr: rates and totals per source and sink.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace sluice {

class SourceRunner;
class SinkRunner;
class Producer;

class Progress {
 public:
  Progress(std::string pipeline, const std::vector<std::unique_ptr<SourceRunner>>& sources,
           const std::vector<std::unique_ptr<SinkRunner>>& sinks, const Producer* producer);
  void report();

 private:
  std::string pipeline_;
  const std::vector<std::unique_ptr<SourceRunner>>& sources_;
  const std::vector<std::unique_ptr<SinkRunner>>& sinks_;
  const Producer* producer_;
  std::vector<uint64_t> last_;
  std::chrono::steady_clock::time_point last_at_;
};

}  // namespace sluice
