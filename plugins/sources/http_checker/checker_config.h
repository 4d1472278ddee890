// The source's options as bound from the pipeline file. Per-target values in
// a targets_file override the ones here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sluice/options.h"

namespace http_checker {

struct CheckerConfig {
  std::vector<std::string> urls;
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
