// A sandboxed Lua state for a plugin that runs a script of its own (the
// `lua` source): the sandbox, `sluice` table (json, log, now) and hard
// instruction/memory budgets of the transforms, without their record
// plumbing. The plugin adds its own functions with the Lua C API (e.g. to
// the global `sluice` table, which only this state sees) and includes
// <lua.h> itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

struct lua_State;

namespace sluice {

class LuaState;

struct LuaHostLimits {
  int64_t instructions = 100'000'000;  // per call()
  size_t memory_bytes = 64u << 20;     // everything the state holds
};

class LuaHost {
 public:
  // `module_dir`: where the script's `require` may look; empty: nowhere.
  LuaHost(LuaHostLimits limits, std::string module_dir);
  LuaHost(const LuaHost&) = delete;
  LuaHost& operator=(const LuaHost&) = delete;
  ~LuaHost();

  lua_State* state() const;

  // Compiles `path` (text only) in a fresh environment and runs its top
  // level under the budgets. False with "shown:line: message" in `error`.
  bool load(const std::string& path, const std::string& shown, std::string& error);

  // Pushes the loaded script's global `name` (nil when it has none).
  void push_global(const char* name) const;

  // Calls the function below `nargs` arguments on the stack, under the
  // budgets. False with the error ("file:line: message"; a budget's trip
  // named as such, whatever the script made of it) in `error`, stack popped.
  bool call(int nargs, int nresults, std::string& error);

  // The last call ended where the state can no longer be trusted (out of
  // memory or time, inside a library function): make a new LuaHost.
  bool spoiled() const;

  // For the host's C functions a script calls: the wall-clock time between
  // begin_wait and end_wait (an HTTP request, a sleep) does not count against
  // the call's time budget, and a stop request does not end the call during
  // it. Nothing between the two may raise a Lua error. `renew_budget`: the
  // rest of the call gets a whole instruction budget again (for a script
  // that runs for good, whose budget is per slice between two waits).
  static void begin_wait(lua_State* L);
  static void end_wait(lua_State* L, bool renew_budget = false);

 private:
  std::unique_ptr<LuaState> lua_;
  int env_ref_ = -2;  // LUA_NOREF
};

}  // namespace sluice
