// Text bound for a PostgreSQL `text` column, made storable whatever bytes it
// holds: the server refuses a NUL and any invalid UTF-8, and one refused
// reject would fail its whole batch, on every restart.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace pgsink {

// The longest reject reason stored, in bytes: a reason quoting a huge record
// (or a script returning one) is cut there.
inline constexpr size_t kMaxReasonBytes = 8192;

// `text` as valid UTF-8 without NUL: each NUL becomes the two characters
// `\0`, each invalid sequence U+FFFD. At most `max_bytes` long: cut on a
// character boundary and ended by "..." when longer.
std::string storable_text(std::string_view text, size_t max_bytes = std::string::npos);

// The length of the longest prefix of `text` (valid UTF-8) that is at most
// `max_bytes` long and does not end inside a character.
size_t utf8_prefix_length(std::string_view text, size_t max_bytes);

}  // namespace pgsink
