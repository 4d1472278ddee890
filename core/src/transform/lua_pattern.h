// string.find, match, gmatch and gsub with sluice's own matcher for Lua
// patterns: the same patterns, captures and results as the library's, but
// every step of the match is charged to the call's budget (LuaBudget), so a
// pattern that backtracks without end (("a*"):rep(20) .. "b" against a run
// of a's) is an instruction-budget reject instead of a hung thread. Plain
// searches use memmem, linear where the library's is quadratic.
#pragma once

extern "C" {
#include <lua.h>
}

namespace sluice {

// Sets find, match, gmatch and gsub in the state's `string` table.
void open_bounded_patterns(lua_State* L);

}  // namespace sluice
