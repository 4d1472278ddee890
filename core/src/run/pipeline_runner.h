// Runs a validated pipeline: starts the embedded broker when asked, builds
// the plugins, runs every source and sink on its own thread, reports
// progress, and shuts down cleanly on a stop request.
#pragma once

#include <chrono>
#include <string>

#include "config/pipeline.h"
#include "run/stop_signal.h"

namespace sluice {

class PluginRegistry;

struct RunOptions {
  enum class Only { all, sources, sinks } only = Only::all;
  uint64_t exit_after = 0;                          // per sink; 0: no limit
  std::chrono::milliseconds progress_every{5000};   // 0: no progress line
};

// Exit codes of a run.
constexpr int kExitOk = 0;
constexpr int kExitRuntime = 1;
constexpr int kExitConfig = 2;

int run_pipeline(const PipelineConfig& config, const RunOptions& options, StopSignal& stop);

}  // namespace sluice
