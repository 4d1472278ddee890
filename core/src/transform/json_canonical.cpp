#include "transform/json_canonical.h"

#include <algorithm>
#include <charconv>
#include <sstream>
#include <utility>

#include <simdjson.h>

#include "transform/lua_json.h"

namespace sluice {

namespace {

void indent(std::string& out, int depth) { out.append(static_cast<size_t>(depth) * 2, ' '); }

void write(simdjson::dom::element e, std::string& out, int depth) {
  using simdjson::dom::element_type;
  char buf[32];
  switch (e.type()) {
    case element_type::OBJECT: {
      std::vector<std::pair<std::string_view, simdjson::dom::element>> fields;
      simdjson::dom::object object = e.get_object().value_unsafe();  // a copy: the result is a temporary
      for (auto field : object) fields.emplace_back(field.key, field.value);
      if (fields.empty()) {
        out += "{}";
        return;
      }
      std::sort(fields.begin(), fields.end(), [](auto& a, auto& b) { return a.first < b.first; });
      out += "{\n";
      for (size_t i = 0; i < fields.size(); ++i) {
        indent(out, depth + 1);
        append_json_string(out, fields[i].first);
        out += ": ";
        write(fields[i].second, out, depth + 1);
        out += i + 1 < fields.size() ? ",\n" : "\n";
      }
      indent(out, depth);
      out += '}';
      return;
    }
    case element_type::ARRAY: {
      auto array = e.get_array().value_unsafe();
      if (array.size() == 0) {
        out += "[]";
        return;
      }
      out += "[\n";
      size_t i = 0, n = array.size();
      for (auto item : array) {
        indent(out, depth + 1);
        write(item, out, depth + 1);
        out += ++i < n ? ",\n" : "\n";
      }
      indent(out, depth);
      out += ']';
      return;
    }
    case element_type::STRING:
      append_json_string(out, e.get_string().value_unsafe());
      return;
    case element_type::INT64: {
      auto r = std::to_chars(buf, buf + sizeof buf, e.get_int64().value_unsafe());
      out.append(buf, r.ptr);
      return;
    }
    case element_type::UINT64: {
      auto r = std::to_chars(buf, buf + sizeof buf, e.get_uint64().value_unsafe());
      out.append(buf, r.ptr);
      return;
    }
    case element_type::DOUBLE: {
      append_json_float(out, e.get_double().value_unsafe());
      return;
    }
    case element_type::BOOL:
      out += e.get_bool().value_unsafe() ? "true" : "false";
      return;
    case element_type::NULL_VALUE:
      out += "null";
      return;
  }
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace

bool canonical_json(std::string_view json, std::string& out, std::string& error) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto err = parser.parse(json.data(), json.size()).get(root)) {
    error = simdjson::error_message(err);
    return false;
  }
  write(root, out, 0);
  return true;
}

std::string line_diff(const std::string& expected, const std::string& actual, const std::string& pad) {
  auto a = lines_of(expected), b = lines_of(actual);
  // Longest common subsequence; values under test are small.
  std::vector<std::vector<int>> lcs(a.size() + 1, std::vector<int>(b.size() + 1, 0));
  for (size_t i = a.size(); i-- > 0;)
    for (size_t j = b.size(); j-- > 0;)
      lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
  std::string out;
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    if (i < a.size() && j < b.size() && a[i] == b[j]) {
      out += pad + "  " + a[i++] + "\n";
      ++j;
    } else if (i < a.size() && (j == b.size() || lcs[i + 1][j] >= lcs[i][j + 1])) {
      out += pad + "- " + a[i++] + "\n";
    } else {
      out += pad + "+ " + b[j++] + "\n";
    }
  }
  return out;
}

}  // namespace sluice
