// The `sluice` table scripts get: log, now, null, json, and the markers
// many / array / object.
#pragma once

extern "C" {
#include <lua.h>
}

namespace sluice {

// Pushes a new `sluice` table.
void open_sluice_helpers(lua_State* L);

// Where sluice.log and print end up.
void log_from_lua(const char* level, const char* message);

}  // namespace sluice
