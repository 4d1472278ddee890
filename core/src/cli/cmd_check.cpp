// `sluice check FILE`: validates a pipeline without running it.
#include <cstdio>

#include "sluice/error.h"

#include "cli/commands.h"
#include "cli/load.h"
#include "run/pipeline_runner.h"

namespace sluice::cli {

namespace {

void print_options(const std::vector<OptionSpec>& specs, const OptionValues& values, const Secrets& secrets) {
  for (const auto& spec : specs) {
    auto it = values.find(spec.name);
    if (it == values.end()) continue;
    std::string text = spec.secret ? "\"***\"" : redact(format_option_value(it->second), secrets);
    std::printf("%s = %s\n", spec.name.c_str(), text.c_str());
  }
}

void print_config(const PipelineConfig& config) {
  std::printf("name = \"%s\"\n\n[kafka]\n", config.name.c_str());
  print_options(kafka_options().specs(), config.kafka_values, secrets_of(config));
  for (const auto* steps : {&config.sources, &config.sinks})
    for (const auto& step : *steps) {
      bool source = step.kind == PluginKind::source;
      std::printf("\n[[%s]]  # line %d\n", source ? "sources" : "sinks", step.pos.line);
      print_options(source ? source_common_options().specs() : sink_common_options().specs(),
                    step.values, secrets_of(config));
      print_options(step.plugin->options, step.values, secrets_of(config));
    }
}

// Lets each plugin that can verify its settings against the outside world do
// so (a PostgreSQL sink: its table and columns). A mistake found there is a
// configuration error; an unreachable system is only a warning, because
// check also runs where production systems cannot be reached.
bool probe_plugins(const PipelineConfig& config) {
  Diagnostics found;
  for (const auto* steps : {&config.sources, &config.sinks})
    for (const auto& step : *steps) {
      if (!step.plugin->probe) continue;
      PluginContext ctx{config.name, step.name, step.topic,
                        step.kind == PluginKind::sink ? consumer_group(config, step) : std::string(),
                        pipeline_dir(config)};
      std::string key = std::string(step.kind == PluginKind::sink ? "sinks." : "sources.") + step.name;
      try {
        step.plugin->probe(step.values, ctx);
      } catch (const Error& e) {
        std::string what = redact_process(e.what());
        if (e.error_class() == ErrorClass::config) found.error(step.pos, key, what);
        else found.warning(step.pos, key, "not verified: " + what);
      }
    }
  if (!found.items().empty()) std::fprintf(stderr, "%s", redact_process(found.format()).c_str());
  return !found.has_errors();
}

}  // namespace

void add_check(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  auto* cmd = app.add_subcommand("check", "validate a pipeline file without running it "
                                          "(exit 0: valid, 2: configuration errors)");
  auto path = std::make_shared<std::string>();
  auto print = std::make_shared<bool>(false);
  auto offline = std::make_shared<bool>(false);
  cmd->add_option("pipeline", *path, "the pipeline file")->required();
  cmd->add_flag("--print", *print, "print the resolved configuration (secrets masked)");
  cmd->add_flag("--offline", *offline,
                "do not contact the systems the pipeline writes to (by default, sinks such as postgres "
                "check that their table and columns exist)");
  cmd->callback([&global, &exit_code, path, print, offline] {
    PluginRegistry registry;
    bool plugins_ok = load_registry(registry, global);
    auto config = load_checked(*path, registry);
    if (!config || !plugins_ok) {
      exit_code = kExitConfig;
      return;
    }
    if (!*offline && !probe_plugins(*config)) {
      exit_code = kExitConfig;
      return;
    }
    if (*print) print_config(*config);
    std::printf("%s: ok: pipeline `%s`, %zu source(s), %zu sink(s), kafka %s\n", path->c_str(),
                config->name.c_str(), config->sources.size(), config->sinks.size(),
                config->kafka.embedded() ? "embedded" : redact_process(config->kafka.bootstrap_servers).c_str());
    exit_code = kExitOk;
  });
}

}  // namespace sluice::cli
