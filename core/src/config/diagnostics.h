// Configuration errors and warnings, each tied to a place in a file and a key
// path, so a user can go straight to the line that is wrong.
#pragma once

#include <string>
#include <vector>

namespace sluice {

struct SourcePos {
  std::string file;
  int line = 0;    // 0: the whole file
  int column = 0;
};

struct Diagnostic {
  enum class Severity { error, warning } severity = Severity::error;
  SourcePos pos;
  std::string key;      // e.g. "sinks[0].table"; empty for file-level problems
  std::string message;
  std::string hint;     // e.g. "did you mean `table`?"
};

class Diagnostics {
 public:
  void error(SourcePos pos, std::string key, std::string message, std::string hint = {});
  void warning(SourcePos pos, std::string key, std::string message, std::string hint = {});
  bool has_errors() const;
  const std::vector<Diagnostic>& items() const { return items_; }
  // One line per diagnostic: "file:line:col: error: key: message (hint)".
  std::string format() const;

 private:
  std::vector<Diagnostic> items_;
};

std::string format_diagnostic(const Diagnostic& d);

// The candidate closest to `word` by edit distance, if it is close enough to
// be a plausible typo; empty otherwise.
std::string nearest_word(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace sluice
