// Inputs that reach a known defect of the toml++ the project builds with
// (Debian's 3.3.0): the fuzzers skip them, as there is nothing in sluice to fix.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sluice_fuzz {

// toml++ 3.3.0's is_non_ascii_horizontal_whitespace() reaches
// TOML_UNREACHABLE (__builtin_unreachable) for U+FC06..U+FEFE, which the
// parser asks about for a character outside a string or comment ("[\uFEF7]").
// Built by g++ it falls through to the right answer (a parse error); it is
// undefined behaviour all the same, which UBSan reports.
inline bool reaches_toml_unreachable(const uint8_t* data, size_t size) {
  for (size_t i = 0; i + 2 < size; ++i)
    if (data[i] == 0xef && (data[i + 1] & 0xc0) == 0x80 && (data[i + 2] & 0xc0) == 0x80) {
      const uint32_t cp = 0xf000u | (data[i + 1] & 0x3fu) << 6 | (data[i + 2] & 0x3fu);
      if (cp >= 0xfc06 && cp <= 0xfefe) return true;
    }
  return false;
}

}  // namespace sluice_fuzz
