#include "copy_format.h"

#include <cinttypes>
#include <cstdio>
#include <ctime>

#include "iso_time.h"

namespace pgsink {

const Column* column_without_binary_form(const std::vector<Column>& columns) {
  for (const auto& c : columns)
    if (c.kind == ColumnKind::numeric || c.kind == ColumnKind::other) return &c;
  return nullptr;
}

CopyFormat preferred_copy_format(const std::vector<Column>& columns) {
  return column_without_binary_form(columns) ? CopyFormat::text : CopyFormat::binary;
}

std::string_view copy_header(CopyFormat format) {
  // Signature, then a zero flags field and a zero header-extension length.
  static constexpr char binary[] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";
  return format == CopyFormat::binary ? std::string_view(binary, 19) : std::string_view();
}

std::string_view copy_trailer(CopyFormat format) {
  return format == CopyFormat::binary ? std::string_view("\377\377", 2) : std::string_view();
}

void append_copy_text(std::string& out, std::string_view text) {
  size_t plain = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const char* escaped = c == '\\' ? "\\\\" : c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : nullptr;
    if (!escaped) continue;
    out.append(text.data() + plain, i - plain);
    out.append(escaped, 2);
    plain = i + 1;
  }
  out.append(text.data() + plain, text.size() - plain);
}

namespace {

int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

bool utc_fields(int64_t unix_seconds, std::tm& tm) {
  auto t = static_cast<time_t>(unix_seconds);
  return gmtime_r(&t, &tm) != nullptr;
}

}  // namespace

void append_timestamp_text(std::string& out, int64_t unix_micros) {
  const int64_t seconds = floor_div(unix_micros, kMicrosPerSecond);
  std::tm tm{};
  utc_fields(seconds, tm);
  char buf[48];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%06" PRId64 "+00", tm.tm_year + 1900,
                        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                        unix_micros - seconds * kMicrosPerSecond);
  out.append(buf, static_cast<size_t>(n));
}

void append_date_text(std::string& out, int64_t unix_days) {
  std::tm tm{};
  utc_fields(unix_days * 86400, tm);
  char buf[24];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  out.append(buf, static_cast<size_t>(n));
}

}  // namespace pgsink
