#include "pg_text.h"

#include <algorithm>

namespace pgsink {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
constexpr std::string_view kEllipsis = "...";

bool continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// The length of the valid UTF-8 character at text[at] (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF), or 0 when the
// bytes there are not one; then `*bad` is how many bytes to replace (the
// maximal start of a sequence that could have been valid, at least 1).
size_t char_length(std::string_view text, size_t at, size_t* bad) {
  const auto c = static_cast<unsigned char>(text[at]);
  *bad = 1;
  if (c < 0x80) return 1;
  size_t need;
  unsigned char lo = 0x80, hi = 0xBF;  // the range of the second byte
  if (c >= 0xC2 && c <= 0xDF) need = 2;
  else if (c >= 0xE0 && c <= 0xEF) need = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
  else if (c >= 0xF0 && c <= 0xF4) need = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
  else return 0;
  for (size_t i = 1; i < need; ++i) {
    if (at + i >= text.size()) return *bad = i, 0;
    const auto next = static_cast<unsigned char>(text[at + i]);
    if (i == 1 ? next < lo || next > hi : !continuation(next)) return *bad = i, 0;
  }
  return need;
}

}  // namespace

std::string storable_text(std::string_view text, size_t max_bytes) {
  std::string out;
  out.reserve(std::min(text.size(), max_bytes));
  for (size_t at = 0; at < text.size() && out.size() <= max_bytes;) {
    size_t bad;
    const size_t n = char_length(text, at, &bad);
    if (n == 0) out += kReplacement;
    else if (text[at] == '\0') out += "\\0";
    else out.append(text, at, n);
    at += n == 0 ? bad : n;
  }
  if (out.size() > max_bytes) {
    // Too long: cut between two characters, and say so.
    const size_t keep = max_bytes < kEllipsis.size() ? 0 : max_bytes - kEllipsis.size();
    out.resize(utf8_prefix_length(out, keep));
    out.append(kEllipsis, 0, std::min(kEllipsis.size(), max_bytes));
  }
  return out;
}

size_t utf8_prefix_length(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text.size();
  size_t end = max_bytes;
  while (end > 0 && continuation(static_cast<unsigned char>(text[end]))) --end;
  return end;
}

}  // namespace pgsink
