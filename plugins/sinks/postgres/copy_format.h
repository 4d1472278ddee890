// The two COPY data formats the sink writes. Binary is preferred: the client
// does no number formatting and the server no parsing. Text remains for
// column types whose binary form the sink does not write (numeric, uuid...).
#pragma once

#include <cstdint>
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

// Big-endian integers, as binary COPY wants them.
inline void append_be(std::string& out, uint64_t v, int bytes) {
  char buf[8];
  for (int i = bytes - 1; i >= 0; --i, v >>= 8) buf[i] = static_cast<char>(v & 0xff);
  out.append(buf, static_cast<size_t>(bytes));
}

// A binary COPY field of `bytes` (4 or 8) bytes: its length, then `v`, in
// one append (the hot path of numbers and timestamps).
inline void append_be_field(std::string& out, uint64_t v, int bytes) {
  char buf[12];
  const int n = 4 + bytes;
  for (int i = n - 1; i >= 4; --i, v >>= 8) buf[i] = static_cast<char>(v & 0xff);
  buf[0] = buf[1] = buf[2] = 0;
  buf[3] = static_cast<char>(bytes);
  out.append(buf, static_cast<size_t>(n));
}

// Text forms of timestamps and dates, from microseconds / days since the Unix
// epoch, in UTC.
void append_timestamp_text(std::string& out, int64_t unix_micros);
void append_date_text(std::string& out, int64_t unix_days);

}  // namespace pgsink
