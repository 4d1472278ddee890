#include "transform/lua_json.h"

#include <charconv>
#include <cmath>

extern "C" {
#include <lauxlib.h>
}

#include "transform/lua_budget.h"
#include "transform/lua_state.h"

namespace sluice {

namespace {

void set_marker(lua_State* L, const char* marker) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, marker);
  lua_setmetatable(L, -2);
}

bool push_element(lua_State* L, simdjson::dom::element e, int depth) {
  using simdjson::dom::element_type;
  if (depth > kMaxJsonDepth || !lua_checkstack(L, 4)) return false;
  switch (e.type()) {
    case element_type::OBJECT: {
      simdjson::dom::object object = e.get_object().value_unsafe();
      size_t size = object.size();
      lua_createtable(L, 0, static_cast<int>(size));
      if (size == 0) set_marker(L, kObjectMarker);
      for (auto field : object) {
        lua_pushlstring(L, field.key.data(), field.key.size());
        if (!push_element(L, field.value, depth + 1)) return false;
        lua_rawset(L, -3);
      }
      return true;
    }
    case element_type::ARRAY: {
      simdjson::dom::array array = e.get_array().value_unsafe();
      lua_createtable(L, static_cast<int>(array.size()), 0);
      set_marker(L, kArrayMarker);
      lua_Integer i = 0;
      for (auto item : array) {
        if (!push_element(L, item, depth + 1)) return false;
        lua_rawseti(L, -2, ++i);
      }
      return true;
    }
    case element_type::STRING: {
      std::string_view s = e.get_string().value_unsafe();
      lua_pushlstring(L, s.data(), s.size());
      return true;
    }
    case element_type::INT64:
      lua_pushinteger(L, e.get_int64().value_unsafe());
      return true;
    // Beyond int64 there is no Lua integer; a float is the closest value.
    case element_type::UINT64:
      lua_pushnumber(L, static_cast<lua_Number>(e.get_uint64().value_unsafe()));
      return true;
    case element_type::DOUBLE:
      lua_pushnumber(L, e.get_double().value_unsafe());
      return true;
    case element_type::BOOL:
      lua_pushboolean(L, e.get_bool().value_unsafe());
      return true;
    case element_type::NULL_VALUE:
      lua_pushlightuserdata(L, lua_json_null());
      return true;
  }
  return false;
}

void append_integer(std::string& out, lua_Integer v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, static_cast<long long>(v));
  out.append(buf, r.ptr);
}

bool append_float(std::string& out, lua_Number v) {
  if (!std::isfinite(v)) return false;
  append_json_float(out, v);
  return true;
}

const char* marker_of(lua_State* L, int index) {
  if (!lua_getmetatable(L, index)) return nullptr;
  const char* found = nullptr;
  for (const char* marker : {kArrayMarker, kObjectMarker, kManyMarker}) {
    lua_rawgetp(L, LUA_REGISTRYINDEX, marker);
    bool same = lua_rawequal(L, -1, -2);
    lua_pop(L, 1);
    if (same) {
      found = marker;
      break;
    }
  }
  lua_pop(L, 1);
  return found;
}

// What an encoding may spend: a table that holds the same sub-table many
// times encodes to text exponentially larger than itself.
struct Allowance {
  const JsonLimits* limits;
  size_t start;     // out's size before this value
  unsigned values = 0;

  // Checked every 256 values: the output against its cap, the call's budget
  // (charged a unit per value) and its time.
  bool ok(const std::string& out, std::string& error) {
    if (!limits || (++values & 255) != 0) return true;
    if (out.size() - start > limits->max_bytes) {
      if (limits->budget) limits->budget->memory_exhausted();
      error = "the JSON text would be larger than " + std::to_string(limits->max_bytes >> 20) + " MB";
      return false;
    }
    if (limits->budget && !limits->budget->spend(256)) {
      error = limits->budget->trip_message();
      return false;
    }
    return true;
  }
};

bool encode(lua_State* L, int index, std::string& out, std::string& error, int depth, Allowance& allowance);

bool encode_array(lua_State* L, int index, lua_Integer n, std::string& out, std::string& error, int depth,
                  Allowance& allowance) {
  out += '[';
  for (lua_Integer i = 1; i <= n; ++i) {
    if (i > 1) out += ',';
    lua_rawgeti(L, index, i);
    bool ok = lua_isnil(L, -1) ? (out += "null", true) : encode(L, -1, out, error, depth + 1, allowance);
    lua_pop(L, 1);
    if (!ok) return false;
  }
  out += ']';
  return true;
}

bool encode_object(lua_State* L, int index, std::string& out, std::string& error, int depth, Allowance& allowance) {
  out += '{';
  bool first = true;
  lua_pushnil(L);
  while (lua_next(L, index)) {
    if (!first) out += ',';
    first = false;
    int key_type = lua_type(L, -2);
    if (key_type == LUA_TSTRING) {
      size_t len = 0;
      const char* key = lua_tolstring(L, -2, &len);
      append_json_string(out, {key, len});
    } else if (key_type == LUA_TNUMBER && lua_isinteger(L, -2)) {
      out += '"';
      append_integer(out, lua_tointeger(L, -2));
      out += '"';
    } else {
      error = std::string("cannot encode a table key of type ") + luaL_typename(L, -2) + " as JSON";
      lua_pop(L, 2);
      return false;
    }
    out += ':';
    if (!encode(L, lua_gettop(L), out, error, depth + 1, allowance)) {
      lua_pop(L, 2);
      return false;
    }
    lua_pop(L, 1);
  }
  out += '}';
  return true;
}

// A plain table is an array when its keys are exactly 1..n; an empty one is an object.
bool is_sequence(lua_State* L, int index, lua_Integer& n) {
  n = static_cast<lua_Integer>(lua_rawlen(L, index));
  if (n == 0) return false;
  lua_Integer count = 0;
  lua_pushnil(L);
  while (lua_next(L, index)) {
    lua_pop(L, 1);
    if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 || lua_tointeger(L, -1) > n) {
      lua_pop(L, 1);
      return false;
    }
    ++count;
  }
  return count == n;
}

bool encode(lua_State* L, int index, std::string& out, std::string& error, int depth, Allowance& allowance) {
  index = lua_absindex(L, index);
  if (!allowance.ok(out, error)) return false;
  switch (lua_type(L, index)) {
    case LUA_TNUMBER:
      if (lua_isinteger(L, index)) {
        append_integer(out, lua_tointeger(L, index));
        return true;
      }
      if (!append_float(out, lua_tonumber(L, index))) {
        error = "cannot encode NaN or infinity as JSON";
        return false;
      }
      return true;
    case LUA_TSTRING: {
      size_t len = 0;
      const char* s = lua_tolstring(L, index, &len);
      append_json_string(out, {s, len});
      return true;
    }
    case LUA_TBOOLEAN:
      out += lua_toboolean(L, index) ? "true" : "false";
      return true;
    case LUA_TNIL:
      out += "null";
      return true;
    case LUA_TLIGHTUSERDATA:
      if (lua_touserdata(L, index) == lua_json_null()) {
        out += "null";
        return true;
      }
      break;
    case LUA_TTABLE: {
      materialize_if_record(L, index);
      if (depth > kMaxJsonDepth || !lua_checkstack(L, 6)) {
        error = "table nested too deeply to encode as JSON (a cycle?)";
        return false;
      }
      const char* marker = marker_of(L, index);
      if (marker == kArrayMarker || marker == kManyMarker)
        return encode_array(L, index, static_cast<lua_Integer>(lua_rawlen(L, index)), out, error, depth, allowance);
      lua_Integer n = 0;
      if (marker != kObjectMarker && is_sequence(L, index, n))
        return encode_array(L, index, n, out, error, depth, allowance);
      return encode_object(L, index, out, error, depth, allowance);
    }
    default:
      break;
  }
  error = std::string("cannot encode a ") + luaL_typename(L, index) + " as JSON";
  return false;
}

}  // namespace

bool JsonToLua::push(lua_State* L, std::string_view json, std::string& error) {
  int top = lua_gettop(L);
  simdjson::dom::element root;
  auto err = parser_.parse(json.data(), json.size()).get(root);
  if (err) {
    error = simdjson::error_message(err);
    return false;
  }
  if (!push_element(L, root, 0)) {
    lua_settop(L, top);
    error = "nested too deeply";
    return false;
  }
  return true;
}

bool push_json(lua_State* L, simdjson::dom::element e) { return push_element(L, e, 0); }

namespace {

// The marker metatable push_element gives a value: arrays always, objects
// only when empty. A script that changed it changed the encoding.
bool has_decoded_marker(lua_State* L, int index, const char* marker) {
  if (marker) return has_marker(L, index, marker);
  if (!lua_getmetatable(L, index)) return true;
  lua_pop(L, 1);
  return false;
}

size_t table_entries(lua_State* L, int index) {
  size_t n = 0;
  lua_pushnil(L);
  while (lua_next(L, index)) {
    ++n;
    lua_pop(L, 1);
  }
  return n;
}

// A repeated key decodes to one entry, so the entry count no longer tells
// whether the script added a field: such an object is always encoded afresh.
// Large objects are not searched for repeats, just encoded.
bool has_repeated_key(simdjson::dom::object object) {
  if (object.size() > 32) return true;
  std::string_view keys[32];
  size_t n = 0;
  for (auto field : object) {
    for (size_t i = 0; i < n; ++i)
      if (keys[i] == field.key) return true;
    keys[n++] = field.key;
  }
  return false;
}

bool same_as_json(lua_State* L, int index, simdjson::dom::element e, int depth) {
  using simdjson::dom::element_type;
  if (depth > kMaxJsonDepth || !lua_checkstack(L, 4)) return false;
  index = lua_absindex(L, index);
  switch (e.type()) {
    case element_type::OBJECT: {
      simdjson::dom::object object = e.get_object().value_unsafe();
      if (!lua_istable(L, index) || !has_decoded_marker(L, index, object.size() == 0 ? kObjectMarker : nullptr))
        return false;
      if (table_entries(L, index) != object.size() || has_repeated_key(object)) return false;
      for (auto field : object) {
        lua_pushlstring(L, field.key.data(), field.key.size());
        lua_rawget(L, index);
        const bool same = same_as_json(L, -1, field.value, depth + 1);
        lua_pop(L, 1);
        if (!same) return false;
      }
      return true;
    }
    case element_type::ARRAY: {
      simdjson::dom::array array = e.get_array().value_unsafe();
      if (!lua_istable(L, index) || !has_decoded_marker(L, index, kArrayMarker)) return false;
      if (table_entries(L, index) != array.size()) return false;
      lua_Integer i = 0;
      for (auto item : array) {
        lua_rawgeti(L, index, ++i);
        const bool same = same_as_json(L, -1, item, depth + 1);
        lua_pop(L, 1);
        if (!same) return false;
      }
      return true;
    }
    case element_type::STRING: {
      if (lua_type(L, index) != LUA_TSTRING) return false;
      size_t len = 0;
      const char* s = lua_tolstring(L, index, &len);
      return std::string_view(s, len) == e.get_string().value_unsafe();
    }
    case element_type::INT64:
      return lua_isinteger(L, index) && lua_tointeger(L, index) == e.get_int64().value_unsafe();
    case element_type::UINT64:
      return lua_type(L, index) == LUA_TNUMBER && !lua_isinteger(L, index) &&
             lua_tonumber(L, index) == static_cast<lua_Number>(e.get_uint64().value_unsafe());
    case element_type::DOUBLE:
      return lua_type(L, index) == LUA_TNUMBER && !lua_isinteger(L, index) &&
             lua_tonumber(L, index) == e.get_double().value_unsafe();
    case element_type::BOOL:
      return lua_type(L, index) == LUA_TBOOLEAN && static_cast<bool>(lua_toboolean(L, index)) == e.get_bool().value_unsafe();
    case element_type::NULL_VALUE:
      return lua_type(L, index) == LUA_TLIGHTUSERDATA && lua_touserdata(L, index) == lua_json_null();
  }
  return false;
}

}  // namespace

bool lua_same_as_json(lua_State* L, int index, simdjson::dom::element e) { return same_as_json(L, index, e, 0); }

bool lua_to_json(lua_State* L, int index, std::string& out, std::string& error, const JsonLimits* limits) {
  Allowance allowance{limits, out.size()};
  return encode(L, index, out, error, 0, allowance);
}

void append_json_float(std::string& out, double v) {
  char buf[400];
  double magnitude = std::fabs(v);
  // Both forms are the shortest that round-trips; fixed reads better for
  // timestamps and coordinates, exponents for the very large and small.
  auto format = (magnitude == 0 || (magnitude >= 1e-5 && magnitude < 1e17)) ? std::chars_format::fixed
                                                                             : std::chars_format::scientific;
  auto r = std::to_chars(buf, buf + sizeof buf, v, format);
  std::string_view text(buf, static_cast<size_t>(r.ptr - buf));
  out.append(text);
  // Shortest form of 1.0 is "1": keep it a float on the way back.
  if (text.find_first_of(".e") == std::string_view::npos) out += ".0";
}


}  // namespace sluice
