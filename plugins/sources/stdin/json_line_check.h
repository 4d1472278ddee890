// Whether one input line is a JSON text, and if not, why and where: what the
// stdin source reports for a line it skips. Lines come from people and
// scripts, so the report quotes only a short, escaped excerpt of the line.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <simdjson.h>

namespace stdin_source {

struct LineProblem {
  std::string reason;  // empty: the line is valid JSON
  size_t column = 0;   // 1-based byte column where the parser stopped; 0: not known
};

class JsonLineChecker {
 public:
  // `line` without its line end. Numbers too wide for 64 bits are valid JSON
  // (they are kept as written), as are top-level scalars.
  LineProblem check(std::string_view line);

 private:
  simdjson::dom::parser dom_;
  simdjson::ondemand::parser ondemand_;
  std::string padded_;  // the line with simdjson's padding after it
};

// At most `max_bytes` of `text`, printable ASCII as it is and every other
// byte as \xNN, with "..." when cut: safe to put in a log line.
std::string escaped_excerpt(std::string_view text, size_t max_bytes = 60);

}  // namespace stdin_source
