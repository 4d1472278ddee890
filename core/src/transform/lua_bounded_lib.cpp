#include "transform/lua_bounded_lib.h"

#include <bit>
#include <cstdint>

extern "C" {
#include <lauxlib.h>
}

#include "transform/lua_budget.h"
#include "transform/lua_pattern.h"

namespace sluice {

namespace {

// Calls the library's own function (upvalue 1) with the arguments as given.
int call_original(lua_State* L) {
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

// A new coroutine counts its instructions in blocks against the call's
// budget: left to itself it would copy the main thread's hook, and with it
// a full budget of its own.
int bounded_create(lua_State* L) {
  const int n = call_original(L);
  if (lua_type(L, 1) == LUA_TTHREAD) LuaBudget::of(L).adopt_thread(lua_tothread(L, 1));
  return n;
}

int bounded_wrap(lua_State* L) {
  const int n = call_original(L);
  if (lua_type(L, 1) == LUA_TFUNCTION && lua_getupvalue(L, 1, 1)) {  // wrap's closure holds its thread
    if (lua_type(L, -1) == LUA_TTHREAD) LuaBudget::of(L).adopt_thread(lua_tothread(L, -1));
    lua_pop(L, 1);
  }
  return n;
}

// string.rep: an empty result takes no memory but n turns of the loop; a
// long one is refused before it is tried.
int bounded_rep(lua_State* L) {
  size_t len = 0, sep_len = 0;
  luaL_checklstring(L, 1, &len);
  const lua_Integer n = luaL_checkinteger(L, 2);
  luaL_optlstring(L, 3, "", &sep_len);
  if (n <= 0 || (len == 0 && sep_len == 0)) {
    lua_pushliteral(L, "");
    return 1;
  }
  const auto count = static_cast<uint64_t>(n);
  const uint64_t unit = static_cast<uint64_t>(len) + sep_len;
  LuaBudget& budget = LuaBudget::of(L);
  if (unit > budget.limits().memory_bytes / count) {
    budget.memory_exhausted();
    budget.raise(L);
  }
  budget.charge(L, static_cast<int64_t>(count * unit / 64));  // a copy of 64 bytes for an instruction
  return call_original(L);
}

// table.move, table.concat, table.sort: charged by the elements they visit
// (the indices they are given, not what the table holds: an empty range of
// nils costs a turn each too).
lua_Integer range_length(lua_State* L, int from_arg, int to_arg) {
  const lua_Integer from = luaL_optinteger(L, from_arg, 1);
  const lua_Integer to = lua_isnoneornil(L, to_arg) ? luaL_len(L, 1) : luaL_checkinteger(L, to_arg);
  if (to < from) return 0;
  const auto span = static_cast<uint64_t>(to) - static_cast<uint64_t>(from);
  return span >= static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<lua_Integer>(span + 1);
}

int bounded_move(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  const lua_Integer from = luaL_checkinteger(L, 2), to = luaL_checkinteger(L, 3);
  luaL_checkinteger(L, 4);
  if (to >= from) {
    const uint64_t span = static_cast<uint64_t>(to) - static_cast<uint64_t>(from);
    LuaBudget::of(L).charge(L, span >= static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(span + 1));
  }
  return call_original(L);
}

int bounded_concat(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  LuaBudget::of(L).charge(L, range_length(L, 3, 4));
  return call_original(L);
}

int bounded_sort(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  const lua_Integer n = luaL_len(L, 1);
  if (n > 1) {
    const auto log = static_cast<int64_t>(std::bit_width(static_cast<uint64_t>(n)));
    LuaBudget::of(L).charge(L, n > INT64_MAX / log ? INT64_MAX : n * log);
  }
  return call_original(L);
}

void wrap_field(lua_State* L, const char* library, const char* name, lua_CFunction wrapper) {
  lua_getglobal(L, library);
  lua_getfield(L, -1, name);
  lua_pushcclosure(L, wrapper, 1);
  lua_setfield(L, -2, name);
  lua_pop(L, 1);
}

}  // namespace

void open_bounded_library(lua_State* L) {
  wrap_field(L, "coroutine", "create", bounded_create);
  wrap_field(L, "coroutine", "wrap", bounded_wrap);
  wrap_field(L, "string", "rep", bounded_rep);
  wrap_field(L, "table", "move", bounded_move);
  wrap_field(L, "table", "concat", bounded_concat);
  wrap_field(L, "table", "sort", bounded_sort);
  open_bounded_patterns(L);
}

}  // namespace sluice
