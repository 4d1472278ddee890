#include "config/diagnostics.h"

#include <algorithm>

namespace sluice {

void Diagnostics::error(SourcePos pos, std::string key, std::string message, std::string hint) {
  items_.push_back({Diagnostic::Severity::error, std::move(pos), std::move(key), std::move(message),
                    std::move(hint)});
}

void Diagnostics::warning(SourcePos pos, std::string key, std::string message, std::string hint) {
  items_.push_back({Diagnostic::Severity::warning, std::move(pos), std::move(key),
                    std::move(message), std::move(hint)});
}

bool Diagnostics::has_errors() const {
  return std::any_of(items_.begin(), items_.end(), [](const Diagnostic& d) {
    return d.severity == Diagnostic::Severity::error;
  });
}

std::string format_diagnostic(const Diagnostic& d) {
  std::string out = d.pos.file;
  if (d.pos.line > 0) out += ":" + std::to_string(d.pos.line) + ":" + std::to_string(d.pos.column);
  out += d.severity == Diagnostic::Severity::error ? ": error: " : ": warning: ";
  if (!d.key.empty()) out += d.key + ": ";
  out += d.message;
  if (!d.hint.empty()) out += " (" + d.hint + ")";
  return out;
}

std::string Diagnostics::format() const {
  std::string out;
  for (const auto& d : items_) out += format_diagnostic(d) + "\n";
  return out;
}

namespace {
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t substitute = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, substitute});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}
}  // namespace

std::string nearest_word(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = SIZE_MAX;
  for (const auto& c : candidates) {
    size_t d = edit_distance(word, c);
    if (d < best_distance) best_distance = d, best = c;
  }
  // A typo changes a few characters, not most of the word.
  size_t limit = std::max<size_t>(2, word.size() / 3);
  return best_distance <= limit ? best : std::string();
}

}  // namespace sluice
