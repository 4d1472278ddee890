// What run and check share: the plugin registry and a validated pipeline.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "config/pipeline.h"
#include "plugin/registry.h"

namespace sluice::cli {

// Built-in plugins plus those on the plugin path. Problems loading a plugin
// are printed; false if there were any.
bool load_registry(PluginRegistry& registry, const GlobalOptions& global);

// Loads and validates; prints diagnostics (secrets masked) to stderr. The
// pipeline's secrets become the process's (config/redaction.h): the log and
// main()'s last-resort report mask them. nullopt when there were errors.
std::optional<PipelineConfig> load_checked(const std::string& path, const PluginRegistry& registry);

// `sluice run` is no program embedding sluice: nothing would push records to
// a source of type `host` (the run would wait for ever), nor take a host
// sink's batches. An error for each such step among those the run starts.
Diagnostics embedded_only_steps(const PipelineConfig& config, bool sources, bool sinks);

}  // namespace sluice::cli
