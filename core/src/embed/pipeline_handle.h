// What a sluice_pipeline handle is: a loaded pipeline with its own plugin
// registry (the built-in plugins, those on the plugin path, and the host's
// source and sink types bound to this pipeline), and, once started, the
// thread that runs it and what the run tells the host.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "config/pipeline.h"
#include "embed/host_sink.h"
#include "embed/host_source.h"
#include "plugin/registry.h"
#include "run/pipeline_runner.h"
#include "run/stop_signal.h"
#include "sluice.h"

namespace sluice {
class Telemetry;
}

struct sluice_pipeline {
  sluice::PluginRegistry registry;  // first: the config points into it
  sluice::PipelineConfig config;
  std::string warnings;
  sluice::RunOptions options;
  std::map<std::string, std::shared_ptr<sluice::embed::HostQueue>> host_sources;  // by step name, made at load
  std::map<std::string, sluice::embed::HostSinkBinding> host_sinks;            // by step name, set before start

  sluice::StopSignal stop;
  mutable std::mutex mutex;  // guards what follows
  std::condition_variable changed;
  enum class Phase { created, starting, running, ended } phase = Phase::created;
  sluice::Telemetry* telemetry = nullptr;  // while the run's telemetry lives
  // The counters as the run ended, by step, and its metrics then.
  std::map<std::string, sluice_step_counters> final_counters;
  std::string final_metrics;
  int exit_code = 0;
  sluice::RunFailure failure;
  std::thread runner;
};

namespace sluice::embed {

// One step's counters from its telemetry.
sluice_step_counters counters_of(const Telemetry& telemetry, const std::string& step, bool* found);

// Every step's counters, for the snapshot taken as the run ends.
std::map<std::string, sluice_step_counters> all_counters(const Telemetry& telemetry);

}  // namespace sluice::embed
