// Wraps a C-ABI plugin descriptor as a PluginInfo the registry understands.
#pragma once

#include <memory>
#include <string>

#include "sluice/plugin.h"
#include "sluice/plugin_info.h"

namespace sluice {

const sluice_host_api* host_api();

// Converts a descriptor already checked for version and size. Throws
// std::runtime_error with the reason when a declaration is unusable.
PluginInfo adapt_c_plugin(const sluice_plugin_descriptor& descriptor, const std::string& origin,
                          std::shared_ptr<void> library);

}  // namespace sluice

// Definitions of the ABI's opaque types, host side.
struct sluice_error {
  int code;
  std::string message;
};
