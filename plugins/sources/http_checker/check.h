// One check slot: a CURL easy handle with its body buffer and PCRE2 match
// data, reused check after check so that the hot path allocates nothing of
// its own and keeps its connections alive.
#pragma once

#include <string>

#include "handles.h"
#include "record.h"
#include "targets.h"

namespace http_checker {

struct SessionSettings {
  std::string user_agent;
  bool follow_redirects = true;
  long max_redirects = 10;
  size_t max_body_bytes = 1 << 20;
};

class Check {
 public:
  explicit Check(const SessionSettings& settings);
  Check(const Check&) = delete;
  Check& operator=(const Check&) = delete;

  // Prepares the handle for `target`; add easy() to the multi handle next.
  void start(const Target& target, size_t target_index);
  CURL* easy() const { return easy_.get(); }
  size_t target_index() const { return target_index_; }

  // Reads timings and status after the transfer ended with `code`, searches
  // the regex, and classifies the outcome.
  const CheckResult& finish(CURLcode code);

 private:
  static size_t on_body(char* data, size_t size, size_t count, void* self);
  void set_ca(const std::string& ca_file);

  const SessionSettings& settings_;
  CurlEasy easy_;
  Pcre2MatchData match_data_;
  std::string body_;            // kept only when there is a regex to search
  size_t received_ = 0;
  bool keep_body_ = false;
  bool body_cut_ = false;
  const Target* target_ = nullptr;
  size_t target_index_ = 0;
  std::string ca_current_;      // the CA file the handle is set to ("" = default)
  std::string default_cainfo_, default_capath_;
  char error_buffer_[CURL_ERROR_SIZE] = {};
  CheckResult result_;
};

}  // namespace http_checker
