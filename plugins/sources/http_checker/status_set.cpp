#include "status_set.h"

#include <charconv>

namespace http_checker {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

std::optional<int> code(std::string_view s) {
  s = trim(s);
  int v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || v < 100 || v > 599) return std::nullopt;
  return v;
}

}  // namespace

std::optional<StatusSet> StatusSet::parse(std::string_view text, std::string& error) {
  StatusSet set;
  set.text_ = std::string(trim(text));
  std::string_view rest = text;
  while (true) {
    size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    size_t dash = item.find('-');
    auto lo = code(item.substr(0, dash));
    auto hi = dash == std::string_view::npos ? lo : code(item.substr(dash + 1));
    if (!lo || !hi || *hi < *lo) {
      error = "`" + std::string(trim(item)) +
              "` is not a status code or range such as 200 or 200-299 (codes 100..599)";
      return std::nullopt;
    }
    set.ranges_.emplace_back(*lo, *hi);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return set;
}

bool StatusSet::contains(long status) const {
  for (auto [lo, hi] : ranges_)
    if (status >= lo && status <= hi) return true;
  return false;
}

}  // namespace http_checker
