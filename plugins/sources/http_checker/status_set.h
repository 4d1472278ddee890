// The HTTP statuses a target accepts: "200-299,301" or a list of codes.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace http_checker {

class StatusSet {
 public:
  // nullopt and `error` set when the text is not a list of codes or ranges in 100..599.
  static std::optional<StatusSet> parse(std::string_view text, std::string& error);

  bool contains(long status) const;
  const std::string& text() const { return text_; }

 private:
  std::vector<std::pair<int, int>> ranges_;
  std::string text_;
};

}  // namespace http_checker
