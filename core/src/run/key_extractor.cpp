#include "run/key_extractor.h"

namespace sluice {

namespace od = simdjson::ondemand;

bool KeyExtractor::key_text(od::value value) {
  od::json_type type;
  if (value.type().get(type)) return false;
  std::string_view raw;
  switch (type) {
    case od::json_type::null: return false;
    case od::json_type::string:
      if (value.get_string().get(raw)) return false;
      key_.assign(raw);
      return true;
    // The whole object or array as written, not just its first token.
    case od::json_type::object: {
      od::object object;
      if (value.get_object().get(object) || object.raw_json().get(raw)) return false;
      break;
    }
    case od::json_type::array: {
      od::array array;
      if (value.get_array().get(array) || array.raw_json().get(raw)) return false;
      break;
    }
    default: raw = value.raw_json_token(); break;
  }
  while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\t' || raw.back() == '\r'))
    raw.remove_suffix(1);
  key_.assign(raw);
  return true;
}

std::optional<std::string_view> KeyExtractor::extract(std::string_view json) {
  padded_.assign(json);
  padded_.resize(json.size() + simdjson::SIMDJSON_PADDING, '\0');
  od::document doc;
  if (parser_.iterate(padded_.data(), json.size(), padded_.size()).get(doc)) return std::nullopt;
  od::object object;
  if (doc.get_object().get(object)) return std::nullopt;
  // A field given twice: the LAST one, as the postgres sink, jsonb and Lua read it.
  bool found = false;
  for (auto field : object) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return std::nullopt;
    if (key != field_) continue;
    od::value value;
    if (field.value().get(value)) return std::nullopt;
    found = key_text(value);
  }
  if (!found) return std::nullopt;
  return key_;
}

}  // namespace sluice
