#include "row_encoder.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "iso_time.h"
#include "json_numbers.h"
#include "pg_text.h"

namespace pgsink {

namespace {

const char* json_type_name(simdjson::dom::element_type t) {
  using T = simdjson::dom::element_type;
  switch (t) {
    case T::ARRAY: return "an array";
    case T::OBJECT: return "an object";
    case T::INT64:
    case T::UINT64: return "an integer";
    case T::DOUBLE: return "a number";
    case T::STRING: return "a string";
    case T::BOOL: return "a boolean";
    case T::NULL_VALUE: return "null";
  }
  return "?";
}

template <class T>
void append_chars(std::string& out, T v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

int integer_width(ColumnKind kind) { return kind == ColumnKind::int16 ? 2 : kind == ColumnKind::int32 ? 4 : 8; }

bool is_number_kind(ColumnKind kind) {
  return kind == ColumnKind::int16 || kind == ColumnKind::int32 || kind == ColumnKind::int64 ||
         kind == ColumnKind::float32 || kind == ColumnKind::float64;
}

// Writes number field `v` (or null) at `p` for a column of `kind` (a number
// kind) and advances `p`, converting as append_value does: an integer into
// a float column through double, a double into float32 only within float's
// range. False when `v` needs more than that (a range to report, a whole
// number written as 2.0, another type, a number beyond 64 bits).
bool put_number(char*& p, simdjson::dom::element v, ColumnKind kind) {
  using T = simdjson::dom::element_type;
  const T type = v.type();
  if (type == T::NULL_VALUE) {
    p = put_be(p, 0xffffffffu, 4);
    return true;
  }
  double d;
  if (type == T::INT64) {
    const int64_t n = v.get_int64().value_unsafe();
    if (kind == ColumnKind::int64 || kind == ColumnKind::int32 || kind == ColumnKind::int16) {
      const int width = integer_width(kind);
      const int bits = width * 8;
      if (bits < 64 && (n < -(int64_t{1} << (bits - 1)) || n >= (int64_t{1} << (bits - 1)))) return false;
      if (width == 2) p = put_be(put_be(p, 2, 4), static_cast<uint64_t>(n), 2);
      else p = put_be_field(p, static_cast<uint64_t>(n), width);
      return true;
    }
    d = static_cast<double>(n);
  } else if (type == T::DOUBLE && (kind == ColumnKind::float64 || kind == ColumnKind::float32)) {
    d = v.get_double().value_unsafe();
  } else {
    return false;
  }
  if (!std::isfinite(d)) return false;
  if (kind == ColumnKind::float64) {
    uint64_t bits;
    std::memcpy(&bits, &d, sizeof bits);
    p = put_be_field(p, bits, 8);
    return true;
  }
  if (std::fabs(d) > std::numeric_limits<float>::max()) return false;
  const float f = static_cast<float>(d);
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  p = put_be_field(p, bits, 4);
  return true;
}

// A quotable piece of a field's text (valid UTF-8: simdjson checked it), cut
// between characters.
std::string excerpt(std::string_view s) {
  return s.size() <= 64 ? std::string(s) : std::string(s.substr(0, utf8_prefix_length(s, 61))) + "...";
}

// The value of the LAST field named `key`: a record with a key twice means
// what JSON parsers, jsonb and Lua make of it.
bool last_field(simdjson::dom::object obj, std::string_view key, simdjson::dom::element& value) {
  bool found = false;
  for (auto field : obj)
    if (field.key == key) value = field.value, found = true;
  return found;
}

}  // namespace

RowEncoder::RowEncoder(const std::vector<Column>& columns, CopyFormat format, bool fast_paths)
    : columns_(columns), format_(format), fields_(columns.size()), found_(columns.size()) {
  one_pass_ = fast_paths;
  numbers_only_ = fast_paths && format_ == CopyFormat::binary && !columns_.empty();
  for (const auto& c : columns_) numbers_only_ = numbers_only_ && is_number_kind(c.kind);
  for (size_t i = 0; i < columns_.size(); ++i) {
    one_pass_ = one_pass_ && columns_[i].field_path.find('.') == std::string::npos;
    for (size_t j = 0; j < i; ++j) one_pass_ = one_pass_ && columns_[j].field_path != columns_[i].field_path;
  }
  for (const auto& c : columns_) {
    std::vector<std::string> parts;
    if (c.field_path == kWholeRecord) {  // no step: the record itself
      one_pass_ = false;
      paths_.push_back(std::move(parts));
      continue;
    }
    size_t start = 0;
    for (size_t dot; (dot = c.field_path.find('.', start)) != std::string::npos; start = dot + 1)
      parts.push_back(c.field_path.substr(start, dot - start));
    parts.push_back(c.field_path.substr(start));
    paths_.push_back(std::move(parts));
  }
}

bool RowEncoder::encode(std::string_view json, std::string& out, std::string& reason) {
  simdjson::dom::element doc;
  tagged_ = false;
  auto err = parser_.parse(json.data(), json.size()).get(doc);
  if (err == simdjson::NUMBER_ERROR && tag_wide_numbers(json, retagged_)) {
    // Valid JSON with a number too wide for simdjson: parsed again, such
    // numbers kept as their text (json_numbers.h).
    err = parser_.parse(retagged_).get(doc);
    tagged_ = true;
  }
  if (err) {
    reason = std::string(kNotJson) + simdjson::error_message(err);
    return false;
  }
  if (!doc.is_object()) {
    reason = std::string("expected a JSON object, found ") + json_type_name(doc.type());
    return false;
  }
  const bool all_found = find_fields(doc);
  if (numbers_only_ && all_found && encode_numbers(out)) return true;
  const size_t start = out.size();
  if (format_ == CopyFormat::binary) append_be(out, columns_.size(), 2);
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (!found_[i]) {
      out.resize(start);
      reason = "missing field `" + columns_[i].field_path + "` (column " + columns_[i].name + ")";
      return false;
    }
    if (i > 0 && format_ == CopyFormat::text) out += '\t';
    if (!append_value(columns_[i], fields_[i], out, reason)) {
      out.resize(start);
      return false;
    }
  }
  if (format_ == CopyFormat::text) out += '\n';
  return true;
}

bool RowEncoder::find_fields(simdjson::dom::element doc) {
  std::fill(found_.begin(), found_.end(), 0);
  if (one_pass_) {
    // A record's fields usually come in the columns' order: each key is
    // tried first against the column after the last one matched. A key
    // given twice: the last one wins (the later match overwrites).
    const size_t n = columns_.size();
    size_t hint = 0;
    const simdjson::dom::object object = doc.get_object().value_unsafe();
    for (auto field = object.begin(), end = object.end(); field != end; ++field) {
      const std::string_view key = field.key();
      for (size_t tried = 0, i = hint; tried < n; ++tried, i = i + 1 == n ? 0 : i + 1) {
        const std::string& name = columns_[i].field_path;
        if (key.size() != name.size() || std::memcmp(key.data(), name.data(), key.size()) != 0) continue;
        fields_[i] = field.value();
        found_[i] = 1;
        hint = i + 1 == n ? 0 : i + 1;
        break;
      }
    }
  } else {
    for (size_t i = 0; i < columns_.size(); ++i) {
      simdjson::dom::element value = doc;
      bool found = true;
      for (const auto& key : paths_[i]) {
        simdjson::dom::object obj;
        if (value.get_object().get(obj) || !last_field(obj, key, value)) {
          found = false;
          break;
        }
      }
      fields_[i] = value;
      found_[i] = found;
    }
  }
  return std::find(found_.begin(), found_.end(), 0) == found_.end();
}

bool RowEncoder::encode_numbers(std::string& out) {
  const size_t start = out.size();
  out.resize(start + 2 + 12 * columns_.size());  // the widest row: every field 4 + 8 bytes
  char* p = put_be(out.data() + start, columns_.size(), 2);
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (!put_number(p, fields_[i], columns_[i].kind)) {
      out.resize(start);
      return false;
    }
  }
  out.resize(static_cast<size_t>(p - out.data()));
  return true;
}

void RowEncoder::append_integer(ColumnKind kind, int64_t n, std::string& out) const {
  if (format_ == CopyFormat::text) return append_chars(out, n);
  const int width = integer_width(kind);
  if (width == 2) {
    append_be(out, 2, 4);
    append_be(out, static_cast<uint64_t>(n), 2);
    return;
  }
  append_be_field(out, static_cast<uint64_t>(n), width);
}

void RowEncoder::append_float(ColumnKind kind, double d, std::string& out) const {
  if (format_ == CopyFormat::text) return append_chars(out, d);
  if (kind == ColumnKind::float32) {
    const float f = static_cast<float>(d);
    uint32_t bits;
    std::memcpy(&bits, &f, sizeof bits);
    append_be_field(out, bits, 4);
    return;
  }
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof bits);
  append_be_field(out, bits, 8);
}

void RowEncoder::append_bytes(std::string_view text, std::string& out) const {
  if (format_ == CopyFormat::text) return append_copy_text(out, text);
  append_be(out, text.size(), 4);
  out.append(text);
}

void RowEncoder::append_json(ColumnKind kind, simdjson::dom::element value, std::string& out) {
  if (tagged_) {
    scratch_.clear();
    append_untagged_json(value, scratch_);
  } else {
    scratch_ = simdjson::minify(value);
  }
  if (format_ == CopyFormat::binary && kind == ColumnKind::jsonb) {
    // jsonb's binary form is a version byte, then the text.
    append_be(out, scratch_.size() + 1, 4);
    out += '\1';
    out += scratch_;
    return;
  }
  append_bytes(scratch_, out);
}

bool RowEncoder::append_value(const Column& c, simdjson::dom::element v, std::string& out, std::string& reason) {
  using T = simdjson::dom::element_type;
  const T type = v.type();
  std::string_view text;  // a string's value, or a wide number's text
  bool wide = false;      // a number beyond 64 bits, as written (json_numbers.h)
  if (type == T::STRING) {
    text = v.get_string().value_unsafe();
    if (tagged_ && !text.empty()) {
      wide = text[0] == kNumberTag;
      text.remove_prefix(1);
    }
  }
  if (type == T::NULL_VALUE) {
    if (format_ == CopyFormat::text) out += "\\N";
    else append_be(out, 0xffffffffu, 4);
    return true;
  }
  auto mismatch = [&](const char* wanted) {
    reason = "column " + c.name + " (" + c.type + "): field `" + c.field_path + "` is " +
             (wide ? "a number" : json_type_name(type)) + ", expected " + wanted;
    return false;
  };
  auto out_of_range = [&](const std::string& value) {
    reason = "column " + c.name + " (" + c.type + "): " + value + " is out of range";
    return false;
  };
  switch (c.kind) {
    case ColumnKind::int16:
    case ColumnKind::int32:
    case ColumnKind::int64: {
      int64_t n;
      if (wide) {
        return out_of_range(excerpt(text));
      } else if (type == T::INT64) {
        n = v.get_int64().value_unsafe();
      } else if (type == T::UINT64) {
        return out_of_range(std::to_string(v.get_uint64().value_unsafe()));
      } else if (type == T::DOUBLE && std::nearbyint(v.get_double().value_unsafe()) == v.get_double().value_unsafe()) {
        // A whole number written with a fraction or exponent (2.0, 1e30).
        const double d = v.get_double().value_unsafe();
        if (std::fabs(d) >= 9.2e18) return out_of_range(simdjson::minify(v));
        n = static_cast<int64_t>(d);
      } else {
        return mismatch("an integer");
      }
      const int bits = integer_width(c.kind) * 8;
      if (bits < 64 && (n < -(int64_t{1} << (bits - 1)) || n >= (int64_t{1} << (bits - 1))))
        return out_of_range(std::to_string(n));
      append_integer(c.kind, n, out);
      return true;
    }
    case ColumnKind::float32:
    case ColumnKind::float64: {
      double d;
      // A wide number overflows to infinity, or underflows to about zero
      // (as close as the column gets). sluice never sets a locale: strtod reads '.'.
      if (wide) d = std::strtod(std::string(text).c_str(), nullptr);
      else if (type == T::INT64) d = static_cast<double>(v.get_int64().value_unsafe());
      else if (type == T::UINT64) d = static_cast<double>(v.get_uint64().value_unsafe());
      else if (type == T::DOUBLE) d = v.get_double().value_unsafe();
      else return mismatch("a number");
      if (!std::isfinite(d) || (c.kind == ColumnKind::float32 && std::fabs(d) > std::numeric_limits<float>::max()))
        return out_of_range(wide ? excerpt(text) : std::to_string(d));
      append_float(c.kind, d, out);
      return true;
    }
    case ColumnKind::numeric:  // text format only
      if (wide) return append_copy_text(out, text), true;
      if (type == T::INT64) return append_chars(out, v.get_int64().value_unsafe()), true;
      if (type == T::UINT64) return append_chars(out, v.get_uint64().value_unsafe()), true;
      if (type == T::DOUBLE) return append_chars(out, v.get_double().value_unsafe()), true;
      return mismatch("a number");
    case ColumnKind::boolean:
      if (wide || type != T::BOOL) return mismatch("a boolean");
      if (format_ == CopyFormat::text) {
        out += v.get_bool().value_unsafe() ? 't' : 'f';
      } else {
        append_be(out, 1, 4);
        out += v.get_bool().value_unsafe() ? '\1' : '\0';
      }
      return true;
    case ColumnKind::timestamp:
    case ColumnKind::timestamptz:
    case ColumnKind::date:
      if (wide) {
        reason = "column " + c.name + " (" + c.type + "): " + excerpt(text) + " is not a usable epoch time";
        return false;
      }
      return append_time(c, v, out, reason, text);
    case ColumnKind::json:
    case ColumnKind::jsonb:
      append_json(c.kind, v, out);
      return true;
    case ColumnKind::text:
    case ColumnKind::other:
      if (wide) return append_bytes(text, out), true;
      if (type == T::STRING) {
        if (text.find('\0') != std::string_view::npos) {
          reason = "column " + c.name + " (" + c.type + "): field `" + c.field_path +
                   "` holds a NUL character (\\u0000), which PostgreSQL cannot store in text";
          return false;
        }
        return append_bytes(text, out), true;
      }
      // Anything else is stored as its JSON text; PostgreSQL judges it.
      append_json(c.kind, v, out);
      return true;
  }
  return mismatch("?");
}

// Epoch seconds (a number) or an ISO 8601 string, into a timestamp or date.
bool RowEncoder::append_time(const Column& c, simdjson::dom::element v, std::string& out, std::string& reason,
                             std::string_view text) {
  using T = simdjson::dom::element_type;
  const T type = v.type();
  int64_t micros;  // since the Unix epoch; UTC, or the wall time for `timestamp`
  if (type == T::INT64 || type == T::UINT64 || type == T::DOUBLE) {
    const double seconds = type == T::DOUBLE ? v.get_double().value_unsafe()
                           : type == T::INT64 ? static_cast<double>(v.get_int64().value_unsafe())
                                              : static_cast<double>(v.get_uint64().value_unsafe());
    // Beyond about 9.2e12 s, microseconds overflow 64 bits.
    if (!std::isfinite(seconds) || std::fabs(seconds) > 9e12) {
      reason = "column " + c.name + " (" + c.type + "): " + std::to_string(seconds) + " is not a usable epoch time";
      return false;
    }
    micros = type == T::INT64 ? v.get_int64().value_unsafe() * kMicrosPerSecond : std::llround(seconds * 1e6);
  } else if (type == T::STRING) {
    auto parsed = parse_iso_time(text);
    if (!parsed) {
      reason = "column " + c.name + " (" + c.type + "): `" + excerpt(text) +
               "` is not an ISO 8601 date/time (YYYY-MM-DD[THH:MM[:SS[.ffffff]]][Z|+HH:MM])";
      return false;
    }
    // Like PostgreSQL, `timestamp` and `date` keep the written wall time and ignore the offset.
    micros = c.kind == ColumnKind::timestamptz ? parsed->utc_micros() : parsed->wall_micros;
  } else {
    reason = "column " + c.name + " (" + c.type + "): field `" + c.field_path + "` is " + json_type_name(type) +
             ", expected epoch seconds or an ISO 8601 date/time string";
    return false;
  }
  if (c.kind == ColumnKind::date) {
    const int64_t day = 86400 * kMicrosPerSecond;
    const int64_t days = micros / day - (micros % day < 0);
    if (format_ == CopyFormat::text) return append_date_text(out, days), true;
    append_be(out, 4, 4);
    append_be(out, static_cast<uint64_t>(days - kPgEpochUnixDays), 4);
    return true;
  }
  if (format_ == CopyFormat::text) return append_timestamp_text(out, micros), true;
  append_be_field(out, static_cast<uint64_t>(micros - kPgEpochUnixSeconds * kMicrosPerSecond), 8);
  return true;
}

}  // namespace pgsink
