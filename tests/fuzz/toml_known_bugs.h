// Inputs that reach a known defect of the toml++ the project builds with
// (Debian's 3.3.0): the fuzzers skip them, as the defect is not sluice's.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sluice_fuzz {

// toml++ 3.3.0's is_non_ascii_horizontal_whitespace() reaches
// TOML_UNREACHABLE (__builtin_unreachable) for most code points of its
// lookup table's blocks 0, 11 and 63 (U+00A1..U+0499, U+2C5E..U+3057,
// U+FB26..U+FEFE), which the parser asks about for a character outside a
// string or comment (`café = 1`, `[ɥ]`). Built by g++ the function happens to
// fall through to the right answer (the file is refused with a parse error),
// but it is undefined behaviour, which UBSan reports. Skipped when any such
// character appears anywhere in the input; the test below is the function's
// own, so it cannot drift from it.
inline bool toml_whitespace_test_unreachable(uint32_t cp) {
  if (cp < 0xa0 || cp > 0xfeff || cp == 0xa0 || cp == 0x3000 || cp == 0xfeff) return false;
  const uint64_t block = (cp - 0xa0) / 0x3fa;
  return !((1ull << block) & 0x7FFFFFFFFFFFF75Eull) && block != 5 && block != 7;
}

inline bool reaches_toml_unreachable(const uint8_t* data, size_t size) {
  for (size_t i = 0; i + 1 < size; ++i) {
    uint32_t cp;
    if ((data[i] & 0xe0) == 0xc0 && (data[i + 1] & 0xc0) == 0x80) {
      cp = (data[i] & 0x1fu) << 6 | (data[i + 1] & 0x3fu);
    } else if (i + 2 < size && (data[i] & 0xf0) == 0xe0 && (data[i + 1] & 0xc0) == 0x80 &&
               (data[i + 2] & 0xc0) == 0x80) {
      cp = (data[i] & 0x0fu) << 12 | (data[i + 1] & 0x3fu) << 6 | (data[i + 2] & 0x3fu);
    } else {
      continue;
    }
    if (toml_whitespace_test_unreachable(cp)) return true;
  }
  return false;
}

}  // namespace sluice_fuzz
