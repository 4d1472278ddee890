// What to check: the targets of one source, from its `urls` and `targets`
// options and its targets_file, each with the source's options filled in where the target
// does not set its own. Everything that can be wrong is found here, at load.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "checker_config.h"
#include "handles.h"
#include "regex.h"
#include "status_set.h"
#include "target_options.h"

namespace http_checker {

struct Target {
  std::string name;
  std::string url;
  bool head = false;                    // HEAD instead of GET
  CurlSlist headers;                    // null when none: built once, sent with every check
  std::chrono::milliseconds interval{0};
  std::chrono::milliseconds timeout{0};
  std::shared_ptr<const Regex> regex;   // null when none; shared by targets with the same pattern
  StatusSet expect_status;
  std::string ca_file;                  // empty: the system's CA bundle
};

// Throws sluice::Error(config) listing every problem, each as
// "file:line:col: error: targets[i].key: message" for the targets file.
// The inline targets are taken as validated (core did, at their own keys).
std::vector<Target> load_targets(const CheckerConfig& config, const std::string& source_name);

// `config` with a relative targets_file and ca_file taken from `base_dir`
// (the pipeline file's directory), as sluice does for every path in a pipeline.
CheckerConfig with_paths_from(CheckerConfig config, const std::string& base_dir);

}  // namespace http_checker
