// Runs a validated pipeline: starts the embedded broker when asked, builds
// the plugins, runs every source and sink on its own thread, reports
// progress, and shuts down cleanly on a stop request.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "config/pipeline.h"
#include "sluice/error.h"
#include "run/stop_signal.h"

namespace sluice {

class PluginRegistry;
class Telemetry;

// The first failure of a run, as the embedding API reports it.
struct RunFailure {
  std::string message;  // empty: none
  ErrorClass error_class = ErrorClass::fatal;
  bool at_start = false;  // before the steps ran (building, connecting)
};

struct RunOptions {
  enum class Only { all, sources, sinks } only = Only::all;
  uint64_t exit_after = 0;                          // per sink; 0: no limit
  std::chrono::milliseconds progress_every{5000};   // 0: no progress line
  // For an embedding host, on the run's thread: `started` once every step
  // is built and connected, just before their threads start; `ending` as
  // the run returns, while its telemetry still holds the final counts
  // (also after a failed start). Neither may throw.
  std::function<void(Telemetry&)> started, ending;
  RunFailure* failure = nullptr;  // where the first failure goes, if anywhere
};

// Exit codes of a run.
constexpr int kExitOk = 0;
constexpr int kExitRuntime = 1;
constexpr int kExitConfig = 2;

int run_pipeline(const PipelineConfig& config, const RunOptions& options, StopSignal& stop);

}  // namespace sluice
