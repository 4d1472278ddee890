// Library functions whose work the count hook cannot see (it counts only
// the VM's instructions), replaced by versions that charge it to the call's
// budget first: coroutines, string.rep, table.move/concat/sort, and the
// pattern functions of `string` (lua_pattern.h).
#pragma once

extern "C" {
#include <lua.h>
}

namespace sluice {

// Replaces the functions in the state's `string`, `table` and `coroutine`
// libraries (already opened); the state must have a LuaBudget attached.
void open_bounded_library(lua_State* L);

}  // namespace sluice
