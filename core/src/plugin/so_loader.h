// Loads plugins built as shared objects against sluice/plugin.h.
#pragma once

#include <cstdint>
#include <string>

#include "sluice/plugin.h"

namespace sluice {

class PluginRegistry;

// The ABI a host speaks: its packed version and the table it gives plugins.
// Tests pass another one to play a host of a later minor version.
struct HostAbi {
  uint32_t version;
  const sluice_host_api* table;
};
HostAbi this_host_abi();

// Loads one shared object; returns why it was refused (dlopen failure,
// missing entry point, another major or a newer minor ABI version, short
// descriptor, unusable declarations), empty when it was registered.
std::string load_shared_plugin(PluginRegistry& registry, const std::string& path, const HostAbi& host);

// Loads every *.so in `dir`; a plugin that cannot be used is refused with
// its path and the reason, recorded in registry.load_errors().
void load_shared_plugins(PluginRegistry& registry, const std::string& dir);

}  // namespace sluice
