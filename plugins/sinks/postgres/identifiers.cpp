#include "identifiers.h"

namespace pgsink {

std::string quote_ident(const std::string& name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string quote_qualified(const std::string& name) {
  // Split on the first dot outside double quotes; a name the user quoted
  // stays as written inside the quotes.
  std::string parts[2];
  int part = 0;
  bool quoted = false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (c == '"') {
      if (quoted && i + 1 < name.size() && name[i + 1] == '"') {
        parts[part] += '"';
        ++i;
      } else {
        quoted = !quoted;
      }
    } else if (c == '.' && !quoted && part == 0) {
      part = 1;
    } else {
      parts[part] += c;
    }
  }
  return part == 0 ? quote_ident(parts[0]) : quote_ident(parts[0]) + "." + quote_ident(parts[1]);
}

}  // namespace pgsink
