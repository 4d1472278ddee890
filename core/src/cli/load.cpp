#include "cli/load.h"

#include <cstdio>

#include "embed/host_sink.h"
#include "embed/host_source.h"
#include "sluice/error.h"

namespace sluice::cli {

bool load_registry(PluginRegistry& registry, const GlobalOptions& global) {
  register_builtin_plugins(registry);
  // Known to check and plugins; only a program embedding sluice runs them
  // (`sluice run` goes through the same library, which binds its own).
  auto embedded_only = [](const std::string& step) -> Error {
    return Error(errc::config, "`" + step + "` is of type `host`: only a program embedding sluice (sluice.h) runs it");
  };
  registry.add(embed::host_source_plugin([embedded_only](const std::string& step) -> std::shared_ptr<embed::HostQueue> {
    throw embedded_only(step);
  }));
  registry.add(embed::host_sink_plugin([embedded_only](const std::string& step) -> embed::HostSinkBinding* {
    throw embedded_only(step);
  }));
  load_plugin_directories(registry, plugin_search_path(global.plugin_path));
  for (const auto& e : registry.load_errors()) std::fprintf(stderr, "error: %s\n", e.c_str());
  return registry.load_errors().empty();
}

std::optional<PipelineConfig> load_checked(const std::string& path, const PluginRegistry& registry) {
  Diagnostics diagnostics;
  PipelineConfig config = load_pipeline(path, registry, diagnostics);
  // From here on every log line and every error main() reports is masked.
  set_process_secrets(secrets_of(config));
  std::string text = redact_process(diagnostics.format());
  std::fputs(text.c_str(), stderr);
  if (diagnostics.has_errors()) return std::nullopt;
  return config;
}

Diagnostics embedded_only_steps(const PipelineConfig& config, bool sources, bool sinks) {
  Diagnostics found;
  auto check = [&](const std::vector<StepConfig>& steps, const std::string& kind, const char* what, const char* hint) {
    for (size_t i = 0; i < steps.size(); ++i) {
      const StepConfig& step = steps[i];
      if (step.plugin->name != "host" || step.plugin->origin != "built-in") continue;
      found.error(step.pos, kind + "[" + std::to_string(i) + "].type",
                  "`" + step.name + "` is of type `host`, " + what + " (sluice.h); `sluice run` is none", hint);
    }
  };
  if (sources)
    check(config.sources, "sources", "whose records only a program embedding sluice can push",
          "`type = \"stdin\"` reads them from standard input");
  if (sinks)
    check(config.sinks, "sinks", "whose batches only a program embedding sluice can take",
          "`type = \"stdout\"` or `\"file\"` writes them out");
  return found;
}

}  // namespace sluice::cli
