// The sandbox a script's state offers: the base, table, string, math,
// utf8, coroutine and part of the os libraries; load for text only; require
// confined to the transforms path; no finalizers; the `sluice` table; and
// the library functions whose work is charged to the budget.
#pragma once

#include <string>

extern "C" {
#include <lua.h>
}

namespace sluice {

// Opens the sandbox in a new state (its budget attached); `module_dir`:
// where require may look, empty: nowhere.
void open_sandbox(lua_State* L, const std::string& module_dir);

// Pushes a fresh environment: a script's own globals, reading through to
// the sandbox.
void push_environment(lua_State* L);

}  // namespace sluice
