// The two COPY data formats the sink writes. Binary is preferred: the client
// does no number formatting and the server no parsing. Text remains for
// column types whose binary form the sink does not write (numeric, uuid...).
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "table_schema.h"

namespace pgsink {

enum class CopyFormat { text, binary };

// The first column whose binary form the sink does not write, or null.
const Column* column_without_binary_form(const std::vector<Column>& columns);
CopyFormat preferred_copy_format(const std::vector<Column>& columns);

// The bytes that open and close COPY data in `format` (empty for text).
std::string_view copy_header(CopyFormat format);
std::string_view copy_trailer(CopyFormat format);

// Appends `text` escaped for COPY's text format.
void append_copy_text(std::string& out, std::string_view text);

// Big-endian integers, as binary COPY wants them: `v`'s low `bytes` (2, 4
// or 8) bytes written at `p`; returns the end.
inline char* put_be(char* p, uint64_t v, int bytes) {
  if constexpr (std::endian::native == std::endian::little) {
    const uint64_t be = __builtin_bswap64(v << (64 - 8 * bytes));
    std::memcpy(p, &be, static_cast<size_t>(bytes));
  } else {
    for (int i = bytes - 1; i >= 0; --i, v >>= 8) p[i] = static_cast<char>(v & 0xff);
  }
  return p + bytes;
}

// A binary COPY field of `bytes` (4 or 8) bytes: its length, then `v`.
inline char* put_be_field(char* p, uint64_t v, int bytes) {
  return put_be(put_be(p, static_cast<uint64_t>(bytes), 4), v, bytes);
}

inline void append_be(std::string& out, uint64_t v, int bytes) {
  char buf[8];
  out.append(buf, static_cast<size_t>(put_be(buf, v, bytes) - buf));
}

// The same as one append (the hot path of numbers and timestamps).
inline void append_be_field(std::string& out, uint64_t v, int bytes) {
  char buf[12];
  out.append(buf, static_cast<size_t>(put_be_field(buf, v, bytes) - buf));
}

// Text forms of timestamps and dates, from microseconds / days since the Unix
// epoch, in UTC.
void append_timestamp_text(std::string& out, int64_t unix_micros);
void append_date_text(std::string& out, int64_t unix_days);

}  // namespace pgsink
