// Reads one top-level field of a JSON record to use as the message key.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <simdjson.h>

namespace sluice {

class KeyExtractor {
 public:
  explicit KeyExtractor(std::string field) : field_(std::move(field)) {}
  // The field's text (strings unquoted, numbers as written); nullopt when the
  // record is not JSON or lacks the field; objects and arrays as written. A
  // field given twice: the last one. The view lives until the next call.
  std::optional<std::string_view> extract(std::string_view json);

 private:
  // Sets key_ to the text of `value`; false for null or an error.
  bool key_text(simdjson::ondemand::value value);

  std::string field_;
  std::string padded_;  // reused copy with simdjson's padding
  std::string key_;
  simdjson::ondemand::parser parser_;
};

}  // namespace sluice
