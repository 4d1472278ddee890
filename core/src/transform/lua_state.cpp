#include "transform/lua_state.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <cstdlib>
#include <string_view>
#include <stdexcept>

extern "C" {
#include <lauxlib.h>
#include <lualib.h>
}

#include "sluice/bounded_file.h"
#include "transform/lua_sandbox.h"

namespace sluice {

namespace {

char null_anchor;  // its address is the JSON null sentinel

}  // namespace

void* lua_json_null() { return &null_anchor; }

bool has_marker(lua_State* L, int index, const char* marker) {
  if (!lua_getmetatable(L, index)) return false;
  lua_rawgetp(L, LUA_REGISTRYINDEX, marker);
  const bool same = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  return same;
}

void materialize_if_record(lua_State* L, int index) {
  index = lua_absindex(L, index);
  if (!has_marker(L, index, kRecordMarker)) return;
  lua_getmetatable(L, index);
  lua_getfield(L, -1, "materialize");
  lua_pushvalue(L, index);
  lua_call(L, 1, 0);
  lua_pop(L, 1);
}

LuaState::LuaState(TransformLimits limits, std::string module_dir)
    : limits_(limits),
      module_dir_(std::move(module_dir)),
      heap_(limits_.memory_bytes),
      budget_(limits_),
      L_(nullptr, lua_close) {
  L_.reset(lua_newstate(&LuaHeap::allocate, &heap_));
  if (!L_) throw std::runtime_error("cannot create a Lua state (out of memory)");
  lua_setwarnf(L_.get(), nullptr, nullptr);
  budget_.attach(L_.get());
  heap_.report_exhaustion_to(&budget_);
  open_sandbox(L_.get(), module_dir_);
}

// The watchdog lets go of the state before it is closed. Closing is bounded:
// the sandbox lets no finalizer be set (see refuse_finalizers).
LuaState::~LuaState() { budget_.detach(); }

bool LuaState::load_script(const std::string& path, const std::string& chunkname, std::string& error) {
  lua_State* L = L_.get();
  std::string problem;
  const std::optional<std::string> read = read_bounded_file(path, kMaxScriptFileBytes, problem);
  if (!read) {
    error = chunkname + ": cannot read the script: " + problem;
    return false;
  }
  const std::string& text = *read;
  int status = luaL_loadbufferx(L, text.data(), text.size(), ("@" + chunkname).c_str(), "t");
  if (status != LUA_OK) {
    error = pop_error(status);
    return false;
  }
  push_environment(L);
  lua_pushvalue(L, -1);
  lua_setupvalue(L, -3, 1);  // the chunk's _ENV
  lua_insert(L, -2);         // env below the chunk
  status = call(0, 0);
  if (status != LUA_OK) {
    error = pop_error(status);
    lua_pop(L, 1);
    return false;
  }
  return true;
}

int LuaState::call(int nargs, int nresults) {
  lua_State* L = L_.get();
  heap_.reset_overrun();
  heap_.enforce(true);
  budget_.begin_call();
  int status = lua_pcall(L, nargs, nresults, 0);
  budget_.end_call();
  heap_.enforce(false);
  return status;
}

int LuaState::protect(lua_CFunction work, void* data, int value, int nresults) {
  lua_State* L = L_.get();
  if (value) value = lua_absindex(L, value);
  if (!lua_checkstack(L, 3 + nresults)) throw std::runtime_error("Lua stack exhausted");
  lua_pushcfunction(L, work);
  lua_pushlightuserdata(L, data);
  if (value) lua_pushvalue(L, value);
  return call(value ? 2 : 1, nresults);
}

bool LuaState::spoiled() const {
  const BudgetTrip t = budget_.trip();
  return t == BudgetTrip::time || t == BudgetTrip::memory || t == BudgetTrip::stopped;
}

std::string LuaState::pop_error(int status) {
  lua_State* L = L_.get();
  std::string message;
  // The value a script raised: a string, or a number (as Lua would show
  // it). Read without converting it in place: that could allocate, outside
  // any protected call.
  std::string raised;
  if (lua_type(L, -1) == LUA_TSTRING) {
    size_t len = 0;
    const char* text = lua_tolstring(L, -1, &len);
    raised.assign(text, len);
  } else if (lua_isinteger(L, -1)) {
    raised = std::to_string(lua_tointeger(L, -1));
  } else if (lua_type(L, -1) == LUA_TNUMBER) {
    raised = std::to_string(lua_tonumber(L, -1));
  }
  if (budget_.trip() != BudgetTrip::none) {
    // The limit, not what the script made of it; "file:line:" kept when the
    // error is the trip's own.
    message = budget_.trip_message();
    const size_t at = raised.find(message);
    if (at != std::string::npos) message = raised.substr(0, at + message.size());
  } else if (status == LUA_ERRMEM || heap_.overrun()) {
    message = "memory limit exceeded (" + std::to_string(limits_.memory_bytes >> 20) + " MB per Lua state)";
    if (status != LUA_ERRMEM && !raised.empty()) message += ": " + raised;
  } else if (!raised.empty() || lua_type(L, -1) == LUA_TSTRING) {
    message = raised;
  } else {
    message = std::string("error object is a ") + luaL_typename(L, -1);
  }
  lua_pop(L, 1);
  heap_.reset_overrun();
  return message;
}

}  // namespace sluice
