// The CLI's verbs. Each returns the process exit code.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace sluice::cli {

struct GlobalOptions {
  std::string plugin_path;
  std::string log_level = "info";
  std::string log_format = "text";  // or "json": one object per line (observe/json_log.h)
};

void add_run(CLI::App& app, const GlobalOptions& global, int& exit_code);
void add_check(CLI::App& app, const GlobalOptions& global, int& exit_code);
void add_broker(CLI::App& app, const GlobalOptions& global, int& exit_code);
void add_plugins(CLI::App& app, const GlobalOptions& global, int& exit_code);
void add_test(CLI::App& app, const GlobalOptions& global, int& exit_code);
void add_produce(CLI::App& app, const GlobalOptions& global, int& exit_code);
void add_consume(CLI::App& app, const GlobalOptions& global, int& exit_code);
void add_tap(CLI::App& app, const GlobalOptions& global, int& exit_code);
void add_top(CLI::App& app, const GlobalOptions& global, int& exit_code);

}  // namespace sluice::cli
