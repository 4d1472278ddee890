// Numbers that are valid JSON but too wide for simdjson's 64-bit forms
// (123456789012345678901234567890, 1e400, 1e-400): simdjson refuses the whole
// record, though PostgreSQL's jsonb and numeric take them as written. Such a
// record is rewritten so that simdjson parses it, the number kept as text: each
// string value gets a one-byte tag in front, kStringTag, and each wide number
// becomes a string tagged kNumberTag that holds the number's own text. Keys are
// left as they are. Only records simdjson refused for a number take this path.
#pragma once

#include <string>
#include <string_view>

#include <simdjson.h>

namespace pgsink {

inline constexpr char kStringTag = 's';
inline constexpr char kNumberTag = 'n';

// Writes the tagged form of `json` into `out`; false when `json` holds no
// wide number (its fault lies elsewhere) or cannot be scanned.
bool tag_wide_numbers(std::string_view json, std::string& out);

// Whether `token` is a number as JSON writes it: -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?
bool is_json_number(std::string_view token);

// Appends a value of a tagged record as JSON text again: tags taken off,
// wide numbers as written.
void append_untagged_json(simdjson::dom::element value, std::string& out);

}  // namespace pgsink
