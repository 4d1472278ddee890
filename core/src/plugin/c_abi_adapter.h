// Wraps a C-ABI plugin descriptor as a PluginInfo the registry understands.
#pragma once

#include <memory>
#include <string>

#include "plugin/c_abi_types.h"
#include "sluice/plugin_info.h"

namespace sluice {

// Converts a descriptor already checked for version and size (the host's
// copy: members the plugin lacks are zero). Throws std::runtime_error with
// the reason when a declaration is unusable.
PluginInfo adapt_c_plugin(const sluice_plugin_descriptor& descriptor, const std::string& origin,
                          std::shared_ptr<void> library);

}  // namespace sluice
