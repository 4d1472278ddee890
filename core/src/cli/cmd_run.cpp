// `sluice run FILE`: runs a pipeline until it ends or is told to stop.
#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "cli/load.h"
#include "cli/signals.h"
#include "observe/json_log.h"
#include "run/pipeline_runner.h"

namespace sluice::cli {

void add_run(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  auto* cmd = app.add_subcommand("run", "run a pipeline (exit 0: clean stop, 1: runtime failure, "
                                        "2: configuration error)");
  struct Args {
    std::string path, only = "all", progress = "5s";
    uint64_t exit_after = 0;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("pipeline", args->path, "the pipeline file")->required();
  cmd->add_option("--only", args->only, "run only the sources or only the sinks")
      ->check(CLI::IsMember({"all", "sources", "sinks"}));
  cmd->add_option("--exit-after", args->exit_after,
                  "each sink ends after this many records (for tests and demos)");
  cmd->add_option("--progress", args->progress, "interval of the progress line; 0s for none");
  cmd->callback([&global, &exit_code, args, cmd] {
    PluginRegistry registry;
    bool plugins_ok = load_registry(registry, global);
    auto config = load_checked(args->path, registry);
    auto progress = parse_duration(args->progress);
    if (!progress) std::fprintf(stderr, "error: --progress: `%s` is not a duration\n", args->progress.c_str());
    if (!config || !plugins_ok || !progress) {
      exit_code = kExitConfig;
      return;
    }
    RunOptions options;
    options.only = args->only == "sources" ? RunOptions::Only::sources
                   : args->only == "sinks" ? RunOptions::Only::sinks
                                           : RunOptions::Only::all;
    options.exit_after = args->exit_after;
    options.progress_every = *progress;
    // JSON logs are read by programs: the progress line only when asked for.
    if (global.log_format == "json" && cmd->count("--progress") == 0) options.progress_every = {};
    set_log_context(config->name, {});  // the steps are added by run_pipeline
    StopSignal stop;
    SignalWatcher signals(stop);
    spdlog::info("pipeline `{}` starting: {} source(s), {} sink(s)", config->name,
                 options.only == RunOptions::Only::sinks ? 0 : config->sources.size(),
                 options.only == RunOptions::Only::sources ? 0 : config->sinks.size());
    exit_code = run_pipeline(*config, options, stop);
    spdlog::info("pipeline `{}` stopped (exit {})", config->name, exit_code);
  });
}

}  // namespace sluice::cli
