// One sandboxed Lua 5.4 state: its owner, its memory cap and its per-call
// instruction budget. Each worker thread gets its own; nothing here is shared.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "transform/lua_heap.h"

extern "C" {
#include <lua.h>
}

namespace sluice {

struct TransformLimits {
  int64_t instructions = 10'000'000;   // per call of a script's function
  size_t memory_bytes = 64u << 20;     // per Lua state, everything it holds
};

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

  // lua_pcall under the instruction budget. A budget or memory overrun turns
  // into an error message naming the limit.
  int call(int nargs, int nresults);

  // The error on top of the stack as text (pops it).
  std::string pop_error(int status);

  const TransformLimits& limits() const { return limits_; }
  size_t memory_in_use() const { return heap_.used(); }

 private:
  static void budget_hook(lua_State* L, lua_Debug* ar);
  void open_sandbox();

  TransformLimits limits_;
  std::string module_dir_;
  LuaHeap heap_;  // declared before L_, which is closed first
  std::unique_ptr<lua_State, void (*)(lua_State*)> L_;
};

// The markers every part of the engine agrees on; each pointer is the
// registry key (lua_rawgetp) of the marker's metatable.
inline constexpr char kArrayMarker[] = "sluice.array";     // metatable: encode as JSON array
inline constexpr char kObjectMarker[] = "sluice.object"; // metatable: encode as JSON object
inline constexpr char kManyMarker[] = "sluice.many";       // metatable: a split's list of records
inline constexpr char kRecordMarker[] = "sluice.record";   // metatable: a record read lazily (lua_record.h)

// True when the value at `index` has the marker's metatable.
bool has_marker(lua_State* L, int index, const char* marker);

// Builds a lazily read record at `index` into a plain table; any other
// value is left alone. Whatever bypasses metamethods calls this first.
void materialize_if_record(lua_State* L, int index);

// The JSON null sentinel, a light userdata with a fixed address.
void* lua_json_null();

}  // namespace sluice
