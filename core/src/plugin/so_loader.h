// Loads plugins built as shared objects against sluice/plugin.h.
#pragma once

#include <string>

namespace sluice {

class PluginRegistry;

// Loads every *.so in `dir`; a plugin that cannot be used (dlopen failure,
// missing entry point, other ABI version, short descriptor) is refused with
// its path and the reason, recorded in registry.load_errors().
void load_shared_plugins(PluginRegistry& registry, const std::string& dir);

}  // namespace sluice
