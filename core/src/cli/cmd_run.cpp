// `sluice run FILE`: runs a pipeline until it ends or is told to stop, through
// the C API of sluice.h, as a program embedding sluice would.
#include <spdlog/spdlog.h>

#include <memory>

#include "cli/commands.h"
#include "cli/load.h"
#include "cli/signals.h"
#include "embed/pipeline_handle.h"
#include "run/pipeline_runner.h"
#include "sluice.h"
#include "sluice/options.h"

namespace sluice::cli {

namespace {
// The C API's objects, owned.
struct FreePipeline {
  void operator()(sluice_pipeline* p) const { sluice_pipeline_free(p); }
};
struct FreeError {
  void operator()(sluice_error* e) const { sluice_error_free(e); }
};
using Pipeline = std::unique_ptr<sluice_pipeline, FreePipeline>;
using ErrorPtr = std::unique_ptr<sluice_error, FreeError>;
}  // namespace

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
    auto progress = parse_duration(args->progress);
    if (!progress) {
      std::fprintf(stderr, "error: --progress: `%s` is not a duration\n", args->progress.c_str());
      exit_code = kExitConfig;
      return;
    }
    sluice_settings settings;
    sluice_settings_init(&settings);
    settings.plugin_path = global.plugin_path.empty() ? nullptr : global.plugin_path.c_str();
    settings.only = args->only == "sources" ? SLUICE_RUN_SOURCES : args->only == "sinks" ? SLUICE_RUN_SINKS : SLUICE_RUN_ALL;
    settings.exit_after = args->exit_after;
    settings.progress_ms = progress->count();
    // JSON logs are read by programs: the progress line only when asked for.
    if (global.log_format == "json" && cmd->count("--progress") == 0) settings.progress_ms = 0;
    sluice_error* raw = nullptr;
    Pipeline pipeline(sluice_pipeline_from_file(args->path.c_str(), &settings, &raw));
    ErrorPtr error(raw);
    if (!pipeline) {
      std::fputs(sluice_error_message(error.get()), stderr);
      exit_code = sluice_error_get_code(error.get()) == SLUICE_ERROR_CONFIG ? kExitConfig : kExitRuntime;
      return;
    }
    const Diagnostics host_steps = embedded_only_steps(pipeline->config, settings.only != SLUICE_RUN_SINKS,
                                                       settings.only != SLUICE_RUN_SOURCES);
    if (host_steps.has_errors()) {
      std::fputs(host_steps.format().c_str(), stderr);
      exit_code = kExitConfig;
      return;
    }
    std::fputs(sluice_pipeline_warnings(pipeline.get()), stderr);
    // Before the run's threads start, so that they inherit the blocked signals.
    sluice_pipeline* p = pipeline.get();
    SignalWatcher signals([p] { return sluice_pipeline_state_of(p) == SLUICE_PIPELINE_STOPPING; },
                          [p] { sluice_pipeline_stop(p); });
    // A run that fails has logged why; the exit code says how it ended.
    if (sluice_pipeline_start(p, &raw) == 0) sluice_pipeline_wait(p, -1, &raw);
    error.reset(raw);
    exit_code = !error ? kExitOk : sluice_error_get_code(error.get()) == SLUICE_ERROR_CONFIG ? kExitConfig : kExitRuntime;
    spdlog::info("pipeline `{}` stopped (exit {})", sluice_pipeline_name(p), exit_code);
  });
}

}  // namespace sluice::cli
