#include "json_line_check.h"

#include "sluice/utf8.h"

namespace stdin_source {

namespace {

namespace od = simdjson::ondemand;

// JSON's number grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
bool is_json_number(std::string_view s) {
  size_t i = 0;
  auto digits = [&] {
    size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i > start;
  };
  if (i < s.size() && s[i] == '-') ++i;
  if (i < s.size() && s[i] == '0') ++i;
  else if (!digits()) return false;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == s.size();
}

std::string_view trim_right(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// Reads every value, so that On-Demand validates all of it; a number that
// simdjson cannot hold is checked against the grammar instead.
simdjson::error_code walk(od::value value, int depth);

simdjson::error_code walk_scalar_or_container(od::json_type type, auto&& value, int depth) {
  using T = od::json_type;
  switch (type) {
    case T::object: {
      od::object object;
      if (auto e = value.get_object().get(object)) return e;
      for (auto field : object) {
        std::string_view key;
        if (auto e = field.unescaped_key().get(key)) return e;
        od::value inner;
        if (auto e = field.value().get(inner)) return e;
        if (auto e = walk(inner, depth + 1)) return e;
      }
      return simdjson::SUCCESS;
    }
    case T::array: {
      od::array array;
      if (auto e = value.get_array().get(array)) return e;
      for (auto element : array) {
        od::value inner;
        if (auto e = element.get(inner)) return e;
        if (auto e = walk(inner, depth + 1)) return e;
      }
      return simdjson::SUCCESS;
    }
    case T::string: {
      std::string_view s;
      return value.get_string().get(s);
    }
    case T::number: {
      od::number n;
      if (!value.get_number().get(n)) return simdjson::SUCCESS;
      std::string_view raw = trim_right(value.raw_json_token());
      return is_json_number(raw) ? simdjson::SUCCESS : simdjson::NUMBER_ERROR;
    }
    case T::boolean: {
      bool b;
      return value.get_bool().get(b);
    }
    case T::null: {
      bool null = false;
      if (auto e = value.is_null().get(null)) return e;
      return null ? simdjson::SUCCESS : simdjson::N_ATOM_ERROR;
    }
  }
  return simdjson::INCORRECT_TYPE;
}

simdjson::error_code walk(od::value value, int depth) {
  if (depth > 1024) return simdjson::DEPTH_ERROR;
  od::json_type type;
  if (auto e = value.type().get(type)) return e;
  return walk_scalar_or_container(type, value, depth);
}

}  // namespace

std::string escaped_excerpt(std::string_view text, size_t max_bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  const size_t n = std::min(text.size(), max_bytes);
  for (size_t i = 0; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  if (text.size() > n) out += "...";
  return out;
}

LineProblem JsonLineChecker::check(std::string_view line) {
  // simdjson reports invalid UTF-8 without a position; find it here.
  if (size_t bad = sluice::first_invalid_utf8(line); bad != std::string_view::npos)
    return {"invalid UTF-8", bad + 1};
  padded_.assign(line);
  padded_.resize(line.size() + simdjson::SIMDJSON_PADDING, '\0');
  simdjson::dom::element root;
  auto dom_error = dom_.parse(padded_.data(), line.size(), false).get(root);
  if (!dom_error) return {};
  // Why, and where: On-Demand stops at the first bad value and knows its
  // place. A number too wide for simdjson is valid JSON, and passes here.
  od::document doc;
  simdjson::error_code error = ondemand_.iterate(padded_.data(), line.size(), padded_.size()).get(doc);
  const bool iterated = !error;
  if (!error) {
    od::value value;
    bool scalar = false;
    error = doc.is_scalar().get(scalar);
    if (!error && scalar) {
      // Only a wide number can be valid where the DOM parser failed on a
      // top-level scalar; anything else keeps the DOM parser's reason.
      if (dom_error == simdjson::NUMBER_ERROR && is_json_number(trim_right(line))) return {};
      error = dom_error;
    } else if (!error) {
      error = doc.get_value().get(value);
      if (!error) error = walk(value, 1);
      const char* rest = nullptr;
      if (!error && !doc.current_location().get(rest)) error = simdjson::TRAILING_CONTENT;  // in bounds: more follows
    }
  }
  if (!error && dom_error == simdjson::NUMBER_ERROR) return {};
  // The DOM parser's reason is the more precise, unless only a wide number
  // failed it; On-Demand gives the place.
  LineProblem problem{simdjson::error_message(dom_error == simdjson::NUMBER_ERROR && error ? error : dom_error), 0};
  if (problem.reason.ends_with('.')) problem.reason.pop_back();
  const char* at = nullptr;
  if (iterated && !doc.current_location().get(at) && at >= padded_.data() && at <= padded_.data() + line.size())
    problem.column = static_cast<size_t>(at - padded_.data()) + 1;
  return problem;
}

}  // namespace stdin_source
