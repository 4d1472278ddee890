#include "row_encoder.h"

#include <charconv>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace pgsink {

void append_copy_text(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: out += c;
    }
  }
}

RowEncoder::RowEncoder(const std::vector<Column>& columns) : columns_(columns) {
  for (const auto& c : columns_) {
    std::vector<std::string> parts;
    size_t start = 0;
    for (size_t dot; (dot = c.field_path.find('.', start)) != std::string::npos; start = dot + 1)
      parts.push_back(c.field_path.substr(start, dot - start));
    parts.push_back(c.field_path.substr(start));
    paths_.push_back(std::move(parts));
  }
}

namespace {

void append_int(std::string& out, int64_t v) {
  char buf[24];
  int n = std::snprintf(buf, sizeof buf, "%" PRId64, v);
  out.append(buf, static_cast<size_t>(n));
}

// The shortest text that reads back as the same double.
void append_double(std::string& out, double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

// Epoch seconds (with fraction) as an ISO 8601 UTC timestamp.
bool append_epoch(std::string& out, double seconds) {
  if (!std::isfinite(seconds) || std::fabs(seconds) > 1e13) return false;
  double whole = std::floor(seconds);
  auto micros = static_cast<int64_t>(std::llround((seconds - whole) * 1e6));
  auto t = static_cast<time_t>(whole);
  if (micros == 1'000'000) ++t, micros = 0;
  std::tm tm{};
  if (!gmtime_r(&t, &tm)) return false;
  char buf[48];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%06" PRId64 "+00", tm.tm_year + 1900,
                        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, micros);
  out.append(buf, static_cast<size_t>(n));
  return true;
}

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

}  // namespace

bool RowEncoder::encode(std::string_view json, std::string& out, std::string& reason) {
  simdjson::dom::element doc;
  if (auto err = parser_.parse(json.data(), json.size()).get(doc)) {
    reason = std::string("not valid JSON: ") + simdjson::error_message(err);
    return false;
  }
  if (!doc.is_object()) {
    reason = std::string("expected a JSON object, found ") + json_type_name(doc.type());
    return false;
  }
  const size_t start = out.size();
  for (size_t i = 0; i < columns_.size(); ++i) {
    simdjson::dom::element value = doc;
    for (const auto& key : paths_[i]) {
      simdjson::dom::object obj;
      if (value.get_object().get(obj) || obj.at_key(key).get(value)) {
        out.resize(start);
        reason = "missing field `" + columns_[i].field_path + "` (column " + columns_[i].name + ")";
        return false;
      }
    }
    if (i > 0) out += '\t';
    if (!append_value(columns_[i], value, out, reason)) {
      out.resize(start);
      return false;
    }
  }
  out += '\n';
  return true;
}

bool RowEncoder::append_value(const Column& c, simdjson::dom::element v, std::string& out,
                              std::string& reason) {
  using T = simdjson::dom::element_type;
  const T type = v.type();
  if (type == T::NULL_VALUE) {
    out += "\\N";
    return true;
  }
  auto mismatch = [&](const char* wanted) {
    reason = "column " + c.name + " (" + c.type + "): field `" + c.field_path + "` is " +
             json_type_name(type) + ", expected " + wanted;
    return false;
  };
  switch (c.kind) {
    case ColumnKind::int16:
    case ColumnKind::int32:
    case ColumnKind::int64: {
      int64_t n;
      if (type == T::INT64) {
        n = v.get_int64().value_unsafe();
      } else if (type == T::DOUBLE && std::nearbyint(v.get_double().value_unsafe()) == v.get_double().value_unsafe() &&
                 std::fabs(v.get_double().value_unsafe()) < 9.2e18) {
        n = static_cast<int64_t>(v.get_double().value_unsafe());
      } else {
        return mismatch("an integer");
      }
      int64_t lo = c.kind == ColumnKind::int16 ? INT16_MIN : c.kind == ColumnKind::int32 ? INT32_MIN : INT64_MIN;
      int64_t hi = c.kind == ColumnKind::int16 ? INT16_MAX : c.kind == ColumnKind::int32 ? INT32_MAX : INT64_MAX;
      if (n < lo || n > hi) {
        reason = "column " + c.name + " (" + c.type + "): " + std::to_string(n) + " is out of range";
        return false;
      }
      append_int(out, n);
      return true;
    }
    case ColumnKind::float32:
    case ColumnKind::float64:
    case ColumnKind::numeric:
      if (type == T::INT64) return append_int(out, v.get_int64().value_unsafe()), true;
      if (type == T::UINT64) return out += std::to_string(v.get_uint64().value_unsafe()), true;
      if (type == T::DOUBLE) return append_double(out, v.get_double().value_unsafe()), true;
      return mismatch("a number");
    case ColumnKind::boolean:
      if (type == T::BOOL) return out += v.get_bool().value_unsafe() ? 't' : 'f', true;
      return mismatch("a boolean");
    case ColumnKind::timestamp:
    case ColumnKind::date:
      if (type == T::INT64 || type == T::UINT64 || type == T::DOUBLE) {
        double seconds = type == T::DOUBLE ? v.get_double().value_unsafe()
                         : type == T::INT64 ? static_cast<double>(v.get_int64().value_unsafe())
                                            : static_cast<double>(v.get_uint64().value_unsafe());
        if (append_epoch(out, seconds)) return true;
        reason = "column " + c.name + " (" + c.type + "): " + std::to_string(seconds) + " is not a usable epoch time";
        return false;
      }
      if (type == T::STRING) return append_copy_text(out, v.get_string().value_unsafe()), true;
      return mismatch("epoch seconds or a date/time string");
    case ColumnKind::json:
      scratch_ = simdjson::minify(v);
      append_copy_text(out, scratch_);
      return true;
    case ColumnKind::text:
    case ColumnKind::other:
      if (type == T::STRING) return append_copy_text(out, v.get_string().value_unsafe()), true;
      // Anything else is stored as its JSON text; PostgreSQL judges it.
      scratch_ = simdjson::minify(v);
      append_copy_text(out, scratch_);
      return true;
  }
  return mismatch("?");
}

}  // namespace pgsink
