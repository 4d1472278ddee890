// `sluice test [FILE|DIR...]`: runs transform test files (a directory: every
// *.test.toml under it); with none, every *.test.toml under ./transforms and ./pipelines.
#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "run/pipeline_runner.h"
#include "transform/test_file.h"

namespace sluice::cli {

void add_test(CLI::App& app, const GlobalOptions&, int& exit_code) {
  auto* cmd = app.add_subcommand("test", "run Lua transform test files (exit 0: all pass, 1: a case failed, "
                                         "2: a file could not be run)");
  auto files = std::make_shared<std::vector<std::string>>();
  cmd->add_option("files", *files,
                  "test files, or directories holding them (default: every *.test.toml under transforms/ and "
                  "pipelines/)");
  cmd->callback([&exit_code, files] {
    std::vector<std::string> paths = files->empty() ? find_test_files(".") : std::vector<std::string>{};
    for (const auto& arg : *files) {
      std::error_code ec;
      if (!std::filesystem::is_directory(arg, ec)) {
        paths.push_back(arg);
        continue;
      }
      std::vector<std::string> found = find_test_files_in(arg);
      if (found.empty()) {
        std::fprintf(stderr, "error: no *.test.toml under %s\n", arg.c_str());
        exit_code = kExitConfig;
        return;
      }
      paths.insert(paths.end(), found.begin(), found.end());
    }
    if (paths.empty()) {
      std::fprintf(stderr, "error: no *.test.toml under ./transforms or ./pipelines\n");
      exit_code = kExitConfig;
      return;
    }
    int passed = 0, failed = 0, broken = 0;
    for (const auto& path : paths) {
      TestFileResult r = run_test_file(path, stdout);
      passed += r.passed;
      failed += r.failed;
      broken += r.file_error ? 1 : 0;
    }
    std::printf("%zu file(s): %d passed, %d failed%s\n", paths.size(), passed, failed,
                broken ? (", " + std::to_string(broken) + " could not be run").c_str() : "");
    exit_code = broken ? kExitConfig : failed ? kExitRuntime : kExitOk;
  });
}

}  // namespace sluice::cli
