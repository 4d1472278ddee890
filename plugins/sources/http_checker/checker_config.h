// The source's options as bound from the pipeline file. Per-target values
// (inline targets or a targets_file) override the ones here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sluice/options.h"

namespace http_checker {

// One target written out in full, inline (`targets = [{...}]`, `[[sources.targets]]`)
// or in a targets file: what it leaves unset is taken from the source.
struct TargetConfig {
  std::string url;
  std::optional<std::string> name, method, regex, ca_file;
  sluice::StringMap headers;                 // added to the source's headers
  std::optional<sluice::Milliseconds> interval, timeout;
  std::vector<std::string> expect_status;    // codes and ranges; empty: the source's
};

struct CheckerConfig {
  std::vector<std::string> urls;
  std::vector<TargetConfig> targets;
  std::optional<std::string> targets_file;
  sluice::Milliseconds interval{30'000};
  sluice::Milliseconds timeout{10'000};
  int64_t concurrency = 100;
  int64_t threads = 1;
  std::string user_agent;
  bool follow_redirects = true;
  int64_t max_redirects = 10;
  int64_t max_body_bytes = 1 << 20;
  std::string method = "GET";
  sluice::StringMap headers;
  std::optional<std::string> regex;
  std::string expect_status = "200-399";
  std::optional<std::string> ca_file;
  sluice::Milliseconds log_every{10'000};
};

}  // namespace http_checker
