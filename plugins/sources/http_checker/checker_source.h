// The source: schedules the targets, runs their checks through libcurl's
// multi interface (one thread, or `threads` each with a share of the targets),
// and emits one record per check, keyed by URL.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "check.h"
#include "checker_metrics.h"
#include "checker_config.h"
#include "counters.h"
#include "sluice/plugin_info.h"
#include "targets.h"

namespace http_checker {

class CheckerSource : public sluice::Source {
 public:
  CheckerSource(const CheckerConfig& config, const sluice::PluginContext& ctx);
  void run(sluice::Emitter& emitter) override;
  const Counters& counters() const { return counters_; }

 private:
  void log_progress(double elapsed_s, bool final) const;
  // One thread's loop over its share of the targets: those whose index is
  // `worker` modulo `workers`.
  void run_worker(size_t worker, size_t workers, sluice::Emitter& emitter, std::chrono::steady_clock::time_point started);

  CheckerConfig config_;
  std::string name_;
  std::vector<Target> targets_;
  SessionSettings session_;
  Counters counters_;
  CheckerMetrics metrics_;
  std::atomic<bool> abort_{false};  // a thread failed: all of them end
};

}  // namespace http_checker
