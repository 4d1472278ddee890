#include "transform/lua_helpers.h"

#include <chrono>
#include <string>
#include <string_view>

extern "C" {
#include <lauxlib.h>
}

#include <spdlog/spdlog.h>

#include "transform/lua_budget.h"
#include "transform/lua_json.h"
#include "transform/lua_state.h"

namespace sluice {

namespace {

int helper_log(lua_State* L) {
  const char* level = luaL_checkstring(L, 1);
  std::string_view l(level);
  if (l != "trace" && l != "debug" && l != "info" && l != "warn" && l != "error")
    return luaL_error(L, "sluice.log: level must be trace, debug, info, warn or error, not `%s`", level);
  log_from_lua(level, luaL_tolstring(L, 2, nullptr));
  return 0;
}

int helper_now(lua_State* L) {
  auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  lua_pushnumber(L, std::chrono::duration<double>(since_epoch).count());
  return 1;
}

int helper_json_encode(lua_State* L) {
  luaL_checkany(L, 1);
  // Thread-local buffers: a Lua error longjmps over C++ destructors.
  static thread_local std::string out, error;
  out.clear();
  // The text becomes a string of the state: it may take what the cap leaves.
  LuaBudget& budget = LuaBudget::of(L);
  const size_t cap = budget.limits().memory_bytes, used = static_cast<size_t>(lua_gc(L, LUA_GCCOUNT, 0)) << 10;
  const JsonLimits limits{&budget, used < cap ? cap - used : 0};
  const bool encoded = lua_to_json(L, 1, out, error, &limits);
  if (out.capacity() > (1u << 20)) {  // what a large encoding took goes back now, not at the thread's end
    if (encoded) lua_pushlstring(L, out.data(), out.size());
    std::string().swap(out);
    if (encoded) return 1;
  }
  if (budget.trip() != BudgetTrip::none) budget.raise(L);
  if (!encoded) return luaL_error(L, "sluice.json.encode: %s", error.c_str());
  lua_pushlstring(L, out.data(), out.size());
  return 1;
}

int helper_json_decode(lua_State* L) {
  size_t len = 0;
  const char* text = luaL_checklstring(L, 1, &len);
  // One parser per thread: a Lua state never migrates between threads.
  static thread_local JsonToLua decoder;
  static thread_local std::string error;
  if (!decoder.push(L, {text, len}, error)) {
    lua_pushnil(L);
    lua_pushfstring(L, "not valid JSON: %s", error.c_str());
    return 2;
  }
  return 1;
}

int mark(lua_State* L, const char* marker) {
  if (lua_isnoneornil(L, 1)) lua_newtable(L);
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  materialize_if_record(L, 1);  // its fields before its metatable goes
  lua_rawgetp(L, LUA_REGISTRYINDEX, marker);
  lua_setmetatable(L, 1);
  return 1;
}

int helper_many(lua_State* L) { return mark(L, kManyMarker); }
int helper_array(lua_State* L) { return mark(L, kArrayMarker); }
int helper_object(lua_State* L) { return mark(L, kObjectMarker); }

}  // namespace

void log_from_lua(const char* level, const char* message) {
  spdlog::log(spdlog::level::from_str(level), "lua: {}", message ? message : "");
}

void open_sluice_helpers(lua_State* L) {
  static const luaL_Reg functions[] = {{"log", helper_log},     {"now", helper_now},
                                       {"many", helper_many},   {"array", helper_array},
                                       {"object", helper_object}, {nullptr, nullptr}};
  luaL_newlib(L, functions);
  lua_pushlightuserdata(L, lua_json_null());
  lua_setfield(L, -2, "null");
  static const luaL_Reg json[] = {{"encode", helper_json_encode}, {"decode", helper_json_decode}, {nullptr, nullptr}};
  luaL_newlib(L, json);
  lua_setfield(L, -2, "json");
}

}  // namespace sluice
