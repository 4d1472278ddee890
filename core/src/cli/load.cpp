#include "cli/load.h"

#include <cstdio>

namespace sluice::cli {

bool load_registry(PluginRegistry& registry, const GlobalOptions& global) {
  register_builtin_plugins(registry);
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

}  // namespace sluice::cli
