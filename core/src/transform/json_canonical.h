// A canonical, pretty form of a JSON value (object keys sorted, one value per
// line, integers and floats kept apart), so that two values are equal exactly
// when their canonical texts are, and a line diff of them reads well.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sluice {

// false (and `error`) when `json` is not valid JSON.
bool canonical_json(std::string_view json, std::string& out, std::string& error);

// A line diff of two texts: "  " common, "- " only in `expected`, "+ " only in `actual`.
std::string line_diff(const std::string& expected, const std::string& actual, const std::string& indent);

}  // namespace sluice
