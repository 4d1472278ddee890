// One sandboxed Lua 5.4 state: its owner, its memory cap and its per-call
// budgets (lua_budget.h). Each worker thread gets its own; nothing here is
// shared but the watchdog that keeps time for every state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "transform/lua_budget.h"
#include "transform/lua_heap.h"
#include "transform/lua_limits.h"

extern "C" {
#include <lua.h>
}

namespace sluice {

class LuaState {
 public:
  // `module_dir`: where `require` may look (the transforms path); empty: nowhere.
  LuaState(TransformLimits limits, std::string module_dir);
  LuaState(const LuaState&) = delete;
  LuaState& operator=(const LuaState&) = delete;
  ~LuaState();

  lua_State* get() const { return L_.get(); }

  // Compiles `path` (text only) with a fresh environment table inheriting the
  // sandbox, runs its top level, and leaves the environment on the stack.
  // On failure returns false with Lua's message ("file:line: ...") in `error`.
  bool load_script(const std::string& path, const std::string& chunkname, std::string& error);

  // lua_pcall under the budgets and the memory cap. A budget or memory
  // overrun turns into an error message naming the limit.
  int call(int nargs, int nresults);

  // Runs the host's own work on the state as a protected call under the
  // same limits: building a record, encoding one. `work` is called with
  // `data` (a light userdata) and, when `value` is not 0, a copy of the
  // value at that index; it may raise Lua errors, so it must leave nothing
  // with a destructor in its frames. LUA_OK with `nresults` results pushed,
  // or an error status with the error on the stack.
  int protect(lua_CFunction work, void* data, int value, int nresults);

  // The error on top of the stack as text (pops it); a limit's trip is
  // named as such, whatever the script made of the error.
  std::string pop_error(int status);

  // The last call ended where the state can no longer be trusted: inside a
  // library function (out of time, stopped) or on the memory cap. Such a
  // state should be closed and made again.
  bool spoiled() const;
  BudgetTrip trip() const { return budget_.trip(); }

  const TransformLimits& limits() const { return limits_; }
  size_t memory_in_use() const { return heap_.used(); }
  size_t memory_peak() const { return heap_.peak(); }

 private:
  TransformLimits limits_;
  std::string module_dir_;
  LuaHeap heap_;  // declared before L_, which is closed first
  LuaBudget budget_;
  std::unique_ptr<lua_State, void (*)(lua_State*)> L_;
};

// The markers every part of the engine agrees on; each pointer is the
// registry key (lua_rawgetp) of the marker's metatable.
inline constexpr char kArrayMarker[] = "sluice.array";     // metatable: encode as JSON array
inline constexpr char kObjectMarker[] = "sluice.object"; // metatable: encode as JSON object
inline constexpr char kManyMarker[] = "sluice.many";       // metatable: a split's list of records
inline constexpr char kRecordMarker[] = "sluice.record";   // metatable: a record read lazily (lua_record.h)
inline constexpr char kSealedMarker[] = "sluice.sealed";   // metatable of the markers' metatables: read-only

// True when the value at `index` has the marker's metatable.
bool has_marker(lua_State* L, int index, const char* marker);

// Builds a lazily read record at `index` into a plain table; any other
// value is left alone. Whatever bypasses metamethods calls this first.
void materialize_if_record(lua_State* L, int index);

// The JSON null sentinel, a light userdata with a fixed address.
void* lua_json_null();

}  // namespace sluice
