// A PCRE2 pattern compiled once at load (with JIT when the platform has it)
// and searched over a body buffer in place.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "handles.h"

namespace http_checker {

class Regex {
 public:
  // nullptr and `error` set ("missing closing parenthesis at offset 3") when invalid.
  static std::shared_ptr<const Regex> compile(const std::string& pattern, std::string& error);

  const std::string& pattern() const { return pattern_; }

  // `match_data` comes from make_match_data(), allocated once per check slot
  // so that a search allocates nothing.
  bool search(std::string_view subject, pcre2_match_data* match_data) const;

  // One ovector pair is enough: only "matched or not" is recorded.
  static Pcre2MatchData make_match_data();

 private:
  Regex(std::string pattern, Pcre2Code code) : pattern_(std::move(pattern)), code_(std::move(code)) {}
  std::string pattern_;
  Pcre2Code code_;
};

}  // namespace http_checker
