// Appends a record as one line of a JSON-lines stream.
#pragma once

#include <string>
#include <string_view>

namespace sluice {

// A raw newline can only be insignificant whitespace in valid JSON (inside
// strings it must be escaped), so turning it into a space keeps a
// pretty-printed value on one line without changing its meaning.
inline void append_json_line(std::string& out, std::string_view value) {
  size_t start = out.size();
  out.append(value);
  for (size_t i = start; i < out.size(); ++i)
    if (out[i] == '\n' || out[i] == '\r') out[i] = ' ';
  out.push_back('\n');
}

}  // namespace sluice
