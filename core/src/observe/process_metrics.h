// Metrics of the sluice process itself (RSS, CPU, open fds, start time,
// build info), read from /proc when scraped: registered as collectors of a
// pipeline's registry for as long as this object lives.
#pragma once

#include <cstdint>
#include <vector>

namespace sluice {

namespace metrics {
class Registry;
}

class ProcessMetrics {
 public:
  explicit ProcessMetrics(metrics::Registry& registry);
  ~ProcessMetrics();  // removes the collectors before the registry could call them again
  ProcessMetrics(const ProcessMetrics&) = delete;
  ProcessMetrics& operator=(const ProcessMetrics&) = delete;

 private:
  metrics::Registry& registry_;
  std::vector<uint64_t> collectors_;
};

// Each read on its own, for tests: -1 when /proc does not tell.
double process_resident_bytes();
double process_cpu_seconds();
double process_open_fds();
double process_start_time_seconds();  // Unix time

}  // namespace sluice
