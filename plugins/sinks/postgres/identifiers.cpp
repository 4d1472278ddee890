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
  // Taken literally: the part before the first dot is the schema. Quote
  // characters in the name are part of the name, never SQL.
  auto dot = name.find('.');
  if (dot == std::string::npos) return quote_ident(name);
  return quote_ident(name.substr(0, dot)) + "." + quote_ident(name.substr(dot + 1));
}

}  // namespace pgsink
