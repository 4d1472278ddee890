// One check's outcome and its JSON record, written into a buffer the caller
// reuses from check to check.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace http_checker {

struct CheckResult {
  std::string_view target;   // the target's name
  std::string_view url;
  bool head = false;
  std::chrono::system_clock::time_point checked_at;  // when the check started
  long status = 0;           // 0: no HTTP response
  double response_ms = 0;    // total time
  double ttfb_ms = 0;        // time to the first byte of the response
  int64_t bytes = 0;         // body bytes received (up to max_body_bytes)
  const std::string* regex = nullptr;  // the pattern, when the target has one
  bool regex_matched = false;
  const char* error = nullptr;         // a class from classify(), or "unexpected_status"
  std::string error_detail;            // curl's message, or what was expected
};

// {"url","method","status","response_ms","ttfb_ms","bytes","regex",
//  "regex_matched","error","error_detail","checked_at","target"}
void write_record(const CheckResult& result, std::string& out);

// "2026-11-24T04:05:06.789Z"
void append_rfc3339(std::string& out, std::chrono::system_clock::time_point t);

}  // namespace http_checker
