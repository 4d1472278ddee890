// The option table of one target: the same validation (and the same error
// positions) for targets written inline in the pipeline file, which core
// checks, and for the [[targets]] of a targets file, checked here.
#pragma once

#include <string>

#include "checker_config.h"
#include "sluice/options.h"

namespace http_checker {

const sluice::Options<TargetConfig>& target_options();

// The root of a *.toml targets file: `[[targets]]` only.
struct TargetsFile {
  std::vector<TargetConfig> targets;
};
const sluice::Options<TargetsFile>& targets_file_options();

// Validators shared with the source's own options (problem: empty when fine).
sluice::OptionCheck check_url(const std::string& url, const std::string& pipeline_dir);
sluice::OptionCheck check_regex(const std::string& pattern, const std::string& pipeline_dir);
sluice::OptionCheck check_status(const std::string& text, const std::string& pipeline_dir);
sluice::OptionCheck check_named_file(const std::string& path, const std::string& pipeline_dir);

// "" when `url` is an http(s) URL, else what is wrong with it.
std::string url_problem(const std::string& url);

}  // namespace http_checker
