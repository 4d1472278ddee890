// Expansion of ${VAR}, ${VAR:-default} and ${file:PATH} in pipeline strings.
#pragma once

#include <string>

namespace sluice {

struct Expanded {
  std::string value;
  std::string error;       // non-empty: expansion failed (names the variable or file, never a value)
  bool from_secret_file = false;  // a ${file:...} was used: treat the value as a secret
};

// `$$` stands for a literal `$`. The file form trims one trailing newline
// (and a CR before it), as secrets written by `echo` or systemd carry one.
Expanded expand_variables(const std::string& text);

}  // namespace sluice
