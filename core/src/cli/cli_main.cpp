// The sluice command's verbs wired together. It lives in libsluice (as
// sluice_cli_main, exported but not part of sluice.h) so that the command
// runs pipelines through the same library, and the same C API, as any
// program embedding sluice; core/src/cli/main.cpp only calls it.
#include <cstdio>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "cli/cli_main.h"
#include "cli/commands.h"
#include "config/redaction.h"
#include "observe/json_log.h"
#include "run/pipeline_runner.h"

namespace {

// Every line logged passes the redaction of the loaded pipeline's secrets
// (none until one is loaded), whoever logs it: libraries quote their input.
void install_logger() {
  auto stderr_sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>("sluice", sluice::redacting_sink(stderr_sink));
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
}

// --log-format json: the same redaction, then one JSON object per line.
void install_json_logger() {
  auto logger = std::make_shared<spdlog::logger>("sluice", sluice::redacting_sink(sluice::json_log_sink()));
  logger->set_level(spdlog::get_level());
  spdlog::set_default_logger(logger);
}

int run_cli(int argc, char** argv) {
  CLI::App app{"sluice: sources -> Kafka -> sinks, from one TOML pipeline file"};
  app.set_version_flag("--version", std::string("sluice ") + SLUICE_VERSION);
  app.require_subcommand(1);
  app.fallthrough();  // global options may also follow the verb
  sluice::cli::GlobalOptions global;
  app.add_option("--plugin-path", global.plugin_path,
                 "directories (':'-separated) searched for plugin .so files, before "
                 "$SLUICE_PLUGIN_PATH and the install default");
  app.add_option("--log-level", global.log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  app.add_option("--log-format", global.log_format,
                 "text, or json: one object per line {time, level, pipeline, step, message}; json turns "
                 "the progress line off unless `run --progress` is given")
      ->check(CLI::IsMember({"text", "json"}));
  app.parse_complete_callback([&global] {
    spdlog::set_level(spdlog::level::from_str(global.log_level));
    if (global.log_format == "json") install_json_logger();
  });

  int exit_code = 0;
  sluice::cli::add_run(app, global, exit_code);
  sluice::cli::add_check(app, global, exit_code);
  sluice::cli::add_broker(app, global, exit_code);
  sluice::cli::add_plugins(app, global, exit_code);
  sluice::cli::add_test(app, global, exit_code);
  sluice::cli::add_produce(app, global, exit_code);
  sluice::cli::add_consume(app, global, exit_code);
  sluice::cli::add_tap(app, global, exit_code);
  sluice::cli::add_top(app, global, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  return exit_code;
}

// Last resort: whatever a verb lets escape (std::bad_alloc included) ends
// the process with a message and the runtime-failure code, not
// std::terminate's abort.
void report_escaped(const char* what) {
  std::string text = sluice::redact_process(what);
  std::fprintf(stderr, "error: %s\n", text.c_str());
}

}  // namespace

int sluice_cli_main(int argc, char** argv) {
  try {
    install_logger();
    return run_cli(argc, argv);
  } catch (const std::bad_alloc&) {
    report_escaped("out of memory");
  } catch (const std::exception& e) {
    report_escaped(e.what());
  } catch (...) {
    report_escaped("unknown exception");
  }
  return sluice::kExitRuntime;
}
