#include "run/key_extractor.h"

namespace sluice {

std::optional<std::string_view> KeyExtractor::extract(std::string_view json) {
  padded_.assign(json);
  padded_.resize(json.size() + simdjson::SIMDJSON_PADDING, '\0');
  simdjson::ondemand::document doc;
  if (parser_.iterate(padded_.data(), json.size(), padded_.size()).get(doc)) return std::nullopt;
  simdjson::ondemand::value value;
  if (doc.find_field_unordered(field_).get(value)) return std::nullopt;
  simdjson::ondemand::json_type type;
  if (value.type().get(type)) return std::nullopt;
  if (type == simdjson::ondemand::json_type::string) {
    std::string_view s;
    if (value.get_string().get(s)) return std::nullopt;
    key_.assign(s);
    return key_;
  }
  if (type == simdjson::ondemand::json_type::null) return std::nullopt;
  std::string_view raw = value.raw_json_token();
  while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\t' || raw.back() == '\r'))
    raw.remove_suffix(1);
  key_.assign(raw);
  return key_;
}

}  // namespace sluice
