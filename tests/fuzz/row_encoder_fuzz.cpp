// Fuzzes the PostgreSQL sink's row encoding: JSON record -> one COPY row, in
// text and (where the sink would use it) binary format. The first line of the
// input is the column layout, `type=field.path` entries separated by `|`
// (e.g. `bigint=seq|timestamp with time zone=ts|jsonb=doc`), the rest is the
// record. For every layout and record the encoder must give a row or a
// per-record reason, never crash or hit UB, and:
//  - a rejected record leaves the output as it was, with a reason;
//  - a row is well formed: text has one unescaped tab between fields and ends
//    in one newline; binary has the field count, then length-prefixed fields
//    of the width each type's binary form has;
//  - a row holds nothing PostgreSQL refuses in any text value: no NUL byte, only
//    valid UTF-8 (one such value would fail the COPY of the whole batch);
//  - text and binary accept the same records, and agree on each value;
//  - encoding the same record again gives the same row.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "copy_format.h"
#include "iso_time.h"
#include "row_encoder.h"
#include "table_schema.h"

using namespace pgsink;

namespace {

constexpr size_t kMaxColumns = 32;

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "row_encoder_fuzz: %s: %s\n", what, detail.c_str());
  std::abort();
}

std::vector<Column> parse_layout(std::string_view line) {
  std::vector<Column> columns;
  while (columns.size() < kMaxColumns) {
    size_t bar = line.find('|');
    std::string_view entry = line.substr(0, bar);
    size_t eq = entry.find('=');
    Column c;
    c.type = std::string(entry.substr(0, eq));
    c.kind = column_kind(c.type);
    c.field_path = eq == std::string_view::npos ? "c" + std::to_string(columns.size()) : std::string(entry.substr(eq + 1));
    c.name = "c" + std::to_string(columns.size());
    columns.push_back(std::move(c));
    if (bar == std::string_view::npos) break;
    line.remove_prefix(bar + 1);
  }
  return columns;
}

bool valid_utf8(std::string_view s) {
  static constexpr uint32_t kLeast[] = {0, 0x80, 0x800, 0x10000};  // overlong forms are invalid
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if ((c >> 5) == 0x6) n = 1, cp = c & 0x1f;
    else if ((c >> 4) == 0xe) n = 2, cp = c & 0x0f;
    else if ((c >> 3) == 0x1e) n = 3, cp = c & 0x07;
    else return false;
    if (s.size() - i <= n) return false;
    for (size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc >> 6) != 0x2) return false;
      cp = cp << 6 | (cc & 0x3f);
    }
    if (cp < kLeast[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += n + 1;
  }
  return true;
}

bool textual(ColumnKind k) {
  return k == ColumnKind::text || k == ColumnKind::json || k == ColumnKind::jsonb || k == ColumnKind::other ||
         k == ColumnKind::numeric;
}

// The fields of a text row, unescaped; nullopt for \N. A raw tab is always a
// separator: the encoder escapes every tab of a value.
std::vector<std::optional<std::string>> split_text_row(std::string_view row, size_t columns) {
  if (row.empty() || row.back() != '\n') fail("text row does not end in a newline", std::string(row));
  row.remove_suffix(1);
  if (row.find_first_of(std::string_view("\0\n\r", 3)) != std::string_view::npos)
    fail("text row holds a raw NUL, CR or LF", std::string(row));
  std::vector<std::optional<std::string>> fields;
  for (size_t start = 0;;) {
    const size_t tab = row.find('\t', start);
    const std::string_view raw = row.substr(start, tab == std::string_view::npos ? std::string_view::npos : tab - start);
    if (raw == "\\N") {
      fields.emplace_back();
    } else {
      std::string value;
      for (size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] != '\\') {
          value += raw[i];
          continue;
        }
        if (++i == raw.size()) fail("text field ends in a lone backslash", std::string(raw));
        switch (raw[i]) {
          case '\\': value += '\\'; break;
          case 'n': value += '\n'; break;
          case 'r': value += '\r'; break;
          case 't': value += '\t'; break;
          default: fail("unexpected escape in a text field", std::string(raw));
        }
      }
      fields.emplace_back(std::move(value));
    }
    if (tab == std::string_view::npos) break;
    start = tab + 1;
  }
  if (fields.size() != columns)
    fail("text row has the wrong number of fields", std::to_string(fields.size()) + " for " + std::to_string(columns));
  return fields;
}

struct BinaryField {
  bool null = false;
  std::string bytes;
};

uint64_t be(std::string_view bytes) {
  uint64_t v = 0;
  for (unsigned char c : bytes) v = v << 8 | c;
  return v;
}

std::vector<BinaryField> split_binary_row(std::string_view row, const std::vector<Column>& columns) {
  if (row.size() < 2 || be(row.substr(0, 2)) != columns.size()) fail("binary row: wrong field count", "");
  size_t at = 2;
  std::vector<BinaryField> fields;
  for (const Column& c : columns) {
    if (row.size() - at < 4) fail("binary row cut short", c.type);
    const auto len = static_cast<int32_t>(be(row.substr(at, 4)));
    at += 4;
    BinaryField f;
    if (len == -1) {
      f.null = true;
    } else {
      if (len < 0 || row.size() - at < static_cast<size_t>(len)) fail("binary field length out of bounds", c.type);
      f.bytes = std::string(row.substr(at, static_cast<size_t>(len)));
      at += static_cast<size_t>(len);
      int width = -1;
      switch (c.kind) {
        case ColumnKind::int16: width = 2; break;
        case ColumnKind::int32: case ColumnKind::float32: case ColumnKind::date: width = 4; break;
        case ColumnKind::int64: case ColumnKind::float64: case ColumnKind::timestamp: case ColumnKind::timestamptz:
          width = 8; break;
        case ColumnKind::boolean: width = 1; break;
        default: break;
      }
      if (width >= 0 && len != width) fail("binary field has the wrong width", c.type + ": " + std::to_string(len));
      if (c.kind == ColumnKind::boolean && f.bytes[0] != 0 && f.bytes[0] != 1) fail("binary boolean not 0/1", "");
      if (c.kind == ColumnKind::jsonb) {
        if (f.bytes.empty() || f.bytes[0] != 1) fail("binary jsonb without version byte 1", "");
        f.bytes.erase(0, 1);
      }
    }
    fields.push_back(std::move(f));
  }
  if (at != row.size()) fail("binary row has trailing bytes", "");
  return fields;
}

// "YYYY-MM-DD" (the year possibly negative or longer) -> days since the epoch.
std::optional<int64_t> read_date(std::string_view s, size_t& at) {
  size_t dash = s.find('-', s[0] == '-' ? 1 : 0);
  if (dash == std::string_view::npos || s.size() < dash + 6) return std::nullopt;
  const int64_t year = std::stoll(std::string(s.substr(0, dash)));
  const unsigned month = static_cast<unsigned>(std::stoul(std::string(s.substr(dash + 1, 2))));
  const unsigned day = static_cast<unsigned>(std::stoul(std::string(s.substr(dash + 4, 2))));
  if (month < 1 || month > 12 || day < 1 || day > 31) return std::nullopt;
  at = dash + 6;
  return days_from_civil(year, month, day);
}

void same_value(const Column& c, const std::optional<std::string>& text, const BinaryField& bin) {
  if (!text != bin.null) fail("text and binary disagree on NULL", c.type);
  if (!text) return;
  const std::string& t = *text;
  auto differ = [&] { fail("text and binary disagree", c.type + ": text `" + t + "`"); };
  switch (c.kind) {
    case ColumnKind::int16: case ColumnKind::int32: case ColumnKind::int64: {
      const int bits = static_cast<int>(bin.bytes.size()) * 8;
      int64_t v = static_cast<int64_t>(be(bin.bytes) << (64 - bits)) >> (64 - bits);
      if (t != std::to_string(v)) differ();
      break;
    }
    case ColumnKind::boolean:
      if (t != (bin.bytes[0] ? "t" : "f")) differ();
      break;
    case ColumnKind::date: {
      size_t at = 0;
      auto days = read_date(t, at);
      if (!days || at != t.size()) fail("text date is not YYYY-MM-DD", t);
      if (*days - kPgEpochUnixDays != static_cast<int32_t>(be(bin.bytes))) differ();
      break;
    }
    case ColumnKind::timestamp: case ColumnKind::timestamptz: {
      size_t at = 0;
      auto days = read_date(t, at);
      int h = 0, m = 0, s = 0;
      long long us = 0;
      char tail[8] = {};
      if (!days || std::sscanf(t.c_str() + at, " %2d:%2d:%2d.%6lld%7s", &h, &m, &s, &us, tail) != 5 ||
          std::string_view(tail) != "+00")
        fail("text timestamp is not YYYY-MM-DD HH:MM:SS.ffffff+00", t);
      const int64_t micros = ((*days * 86400 + h * 3600 + m * 60 + s) - kPgEpochUnixSeconds) * kMicrosPerSecond + us;
      if (micros != static_cast<int64_t>(be(bin.bytes))) differ();
      break;
    }
    case ColumnKind::text: case ColumnKind::json: case ColumnKind::jsonb:
      if (t != bin.bytes) differ();
      break;
    default:
      break;  // floats: text is the shortest round trip, binary the bits; both come from one double
  }
}

void check_text_values(const std::vector<Column>& columns, const std::vector<std::optional<std::string>>& fields) {
  for (size_t i = 0; i < columns.size(); ++i)
    if (fields[i] && !valid_utf8(*fields[i])) fail("text value is not valid UTF-8", columns[i].type);
}

void check_binary_values(const std::vector<Column>& columns, const std::vector<BinaryField>& fields) {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (fields[i].null || !textual(columns[i].kind)) continue;
    if (fields[i].bytes.find('\0') != std::string::npos) fail("binary text value holds a NUL", columns[i].type);
    if (!valid_utf8(fields[i].bytes)) fail("binary text value is not valid UTF-8", columns[i].type);
  }
}

// Encodes into a buffer that already holds a row: a reject must leave it as it was.
std::optional<std::string> encode(RowEncoder& encoder, std::string_view json, std::string& reason) {
  static const std::string kBefore = "earlier row\n";
  std::string out = kBefore;
  reason.clear();
  const bool ok = encoder.encode(json, out, reason);
  if (out.compare(0, kBefore.size(), kBefore) != 0) fail("the rows before were changed", "");
  if (!ok) {
    if (out != kBefore) fail("a rejected record left bytes behind", reason);
    if (reason.empty()) fail("a rejected record has no reason", "");
    return std::nullopt;
  }
  return out.substr(kBefore.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  if (newline == std::string_view::npos) return -1;
  const std::vector<Column> columns = parse_layout(input.substr(0, newline));
  const std::string_view json = input.substr(newline + 1);

  std::string text_reason, binary_reason;
  RowEncoder text_encoder(columns, CopyFormat::text);
  std::optional<std::string> text_row = encode(text_encoder, json, text_reason);
  if (encode(text_encoder, json, text_reason) != text_row) fail("text: a second encoding differs", "");
  std::vector<std::optional<std::string>> text_fields;
  if (text_row) {
    text_fields = split_text_row(*text_row, columns.size());
    check_text_values(columns, text_fields);
  }
  if (column_without_binary_form(columns)) return 0;

  RowEncoder binary_encoder(columns, CopyFormat::binary);
  std::optional<std::string> binary_row = encode(binary_encoder, json, binary_reason);
  if (encode(binary_encoder, json, binary_reason) != binary_row) fail("binary: a second encoding differs", "");
  // The fast paths (one pass over the fields, rows of numbers written
  // straight) must give the general paths' bytes and reasons.
  std::string general_reason;
  RowEncoder general_encoder(columns, CopyFormat::binary, false);
  if (encode(general_encoder, json, general_reason) != binary_row || general_reason != binary_reason)
    fail("binary: the fast paths and the general paths differ", binary_reason + " / " + general_reason);
  if (text_row.has_value() != binary_row.has_value())
    fail("text and binary disagree on accepting the record", text_reason + binary_reason);
  if (!binary_row) {
    if (text_reason != binary_reason) fail("text and binary give different reasons", text_reason + " / " + binary_reason);
    return 0;
  }
  std::vector<BinaryField> binary_fields = split_binary_row(*binary_row, columns);
  check_binary_values(columns, binary_fields);
  for (size_t i = 0; i < columns.size(); ++i) same_value(columns[i], text_fields[i], binary_fields[i]);
  return 0;
}
