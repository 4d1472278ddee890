// JSON <-> Lua values, faithful both ways: integers stay integers (64-bit),
// floats stay floats, null is the `sluice.null` sentinel, and decoded arrays
// and empty objects carry a marker metatable so they encode as they came.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "sluice/json_text.h"

extern "C" {
#include <lua.h>
}

namespace sluice {

class JsonToLua {
 public:
  // Pushes the decoded value; on failure pushes nothing and sets `error`.
  bool push(lua_State* L, std::string_view json, std::string& error);

 private:
  simdjson::dom::parser parser_;
};

// How deep values may nest, decoding and encoding.
inline constexpr int kMaxJsonDepth = 200;

// Pushes a parsed value; false when it nests too deeply, leaving what was
// built of it on the stack.
bool push_json(lua_State* L, simdjson::dom::element e);

// True if the Lua value at `index` encodes exactly as `e` (same keys,
// values, number subtypes and markers).
bool lua_same_as_json(lua_State* L, int index, simdjson::dom::element e);

class LuaBudget;

// What one encoding may produce and spend (see lua_budget.h): past
// `max_bytes` of text it fails as out of memory, and it ends when the
// budget's call must end (charged a unit per value encoded).
struct JsonLimits {
  LuaBudget* budget = nullptr;
  size_t max_bytes = SIZE_MAX;
};

// Appends the Lua value at `index` as JSON. On failure `out` may hold a
// partial value; `error` says which value could not be encoded (or which
// limit was reached, the budget then records it).
bool lua_to_json(lua_State* L, int index, std::string& out, std::string& error, const JsonLimits* limits = nullptr);

// Appends a finite double so that it reads back as the same float: plain
// decimals in the usual range (1700000000.123, 1.0), exponents beyond it.
void append_json_float(std::string& out, double v);

}  // namespace sluice
