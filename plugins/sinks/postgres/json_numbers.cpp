#include "json_numbers.h"

#include <charconv>
#include <cstdint>

namespace pgsink {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// A JSON number that no 64-bit integer or finite, non-zero-by-underflow
// double holds exactly as simdjson would parse it.
bool is_wide(std::string_view token) {
  const char* first = token.data();
  const char* last = first + token.size();
  if (token.find_first_of(".eE") == std::string_view::npos) {
    int64_t i;
    if (auto r = std::from_chars(first, last, i); r.ec == std::errc()) return false;
    uint64_t u;
    return token[0] == '-' || std::from_chars(first, last, u).ec != std::errc();
  }
  double d;
  return std::from_chars(first, last, d).ec == std::errc::result_out_of_range;
}

void append_json_string(std::string_view s, std::string& out) {
  static const char* hex = "0123456789abcdef";
  out += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += "\\u00";
      out += hex[(c >> 4) & 15];
      out += hex[c & 15];
    } else {
      out += c;
    }
  }
  out += '"';
}

}  // namespace

bool is_json_number(std::string_view t) {
  size_t i = 0;
  auto digits = [&] {
    const size_t from = i;
    while (i < t.size() && is_digit(t[i])) ++i;
    return i > from;
  };
  if (i < t.size() && t[i] == '-') ++i;
  if (i < t.size() && t[i] == '0') ++i;
  else if (!digits()) return false;
  if (i < t.size() && t[i] == '.' && (++i, !digits())) return false;
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == t.size();
}

bool tag_wide_numbers(std::string_view json, std::string& out) {
  out.clear();
  out.reserve(json.size() + 64);
  bool tagged = false;
  for (size_t i = 0; i < json.size();) {
    const char c = json[i];
    if (c == '"') {
      size_t end = i + 1;  // one past the closing quote
      while (end < json.size() && json[end] != '"') end += json[end] == '\\' ? 2 : 1;
      if (end >= json.size()) return false;
      ++end;
      size_t next = end;
      while (next < json.size() && is_space(json[next])) ++next;
      const bool key = next < json.size() && json[next] == ':';
      out += '"';
      if (!key) out += kStringTag;
      out.append(json, i + 1, end - i - 1);
      i = end;
    } else if (c == '-' || is_digit(c)) {
      size_t end = i;
      while (end < json.size() && (is_digit(json[end]) || json[end] == '-' || json[end] == '+' ||
                                   json[end] == '.' || json[end] == 'e' || json[end] == 'E'))
        ++end;
      const std::string_view token = json.substr(i, end - i);
      if (is_json_number(token) && is_wide(token)) {
        out += '"';
        out += kNumberTag;
        out += token;
        out += '"';
        tagged = true;
      } else {
        out += token;
      }
      i = end;
    } else {
      out += c;
      ++i;
    }
  }
  return tagged;
}

void append_untagged_json(simdjson::dom::element value, std::string& out) {
  using T = simdjson::dom::element_type;
  switch (value.type()) {
    case T::OBJECT: {
      out += '{';
      bool first = true;
      simdjson::dom::object object;
      if (value.get_object().get(object)) return;
      for (auto field : object) {
        if (!first) out += ',';
        first = false;
        append_json_string(field.key, out);
        out += ':';
        append_untagged_json(field.value, out);
      }
      out += '}';
      return;
    }
    case T::ARRAY: {
      out += '[';
      bool first = true;
      simdjson::dom::array array;
      if (value.get_array().get(array)) return;
      for (auto element : array) {
        if (!first) out += ',';
        first = false;
        append_untagged_json(element, out);
      }
      out += ']';
      return;
    }
    case T::STRING: {
      const std::string_view s = value.get_string().value_unsafe();
      if (!s.empty() && s[0] == kNumberTag) out.append(s.substr(1));
      else append_json_string(s.empty() ? s : s.substr(1), out);
      return;
    }
    default:
      out += simdjson::minify(value);
  }
}

}  // namespace pgsink
