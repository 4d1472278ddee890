#include "plugin/so_loader.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <vector>

#include "plugin/c_abi_adapter.h"
#include "plugin/registry.h"

namespace sluice {

namespace {

// The descriptor must reach at least the last member ABI version 1 defines.
constexpr size_t kMinDescriptorSize = offsetof(sluice_plugin_descriptor, sink_flush) +
                                      sizeof(sluice_plugin_descriptor::sink_flush);

std::string load_one(PluginRegistry& registry, const std::string& path) {
  std::shared_ptr<void> library(dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL), [](void* h) {
    if (h) dlclose(h);
  });
  if (!library) return dlerror();
  dlerror();
  void* symbol = dlsym(library.get(), SLUICE_PLUGIN_ENTRY_NAME);
  if (!symbol) return "missing symbol `" SLUICE_PLUGIN_ENTRY_NAME "`";
  auto entry = reinterpret_cast<sluice_plugin_entry_fn>(symbol);
  const sluice_plugin_descriptor* descriptor = entry(SLUICE_ABI_VERSION, host_api());
  if (!descriptor) return "its entry point returned no descriptor (it refused this host)";
  // Read the version before anything else: the rest of the layout depends on it.
  if (descriptor->abi_version != SLUICE_ABI_VERSION)
    return "built for plugin ABI version " + std::to_string(descriptor->abi_version) +
           ", this sluice speaks version " + std::to_string(SLUICE_ABI_VERSION);
  if (descriptor->struct_size < kMinDescriptorSize)
    return "descriptor is " + std::to_string(descriptor->struct_size) + " bytes, ABI version " +
           std::to_string(SLUICE_ABI_VERSION) + " needs at least " + std::to_string(kMinDescriptorSize);
  try {
    registry.add(adapt_c_plugin(*descriptor, path, library));
  } catch (const std::exception& e) {
    return e.what();
  }
  return {};
}

}  // namespace

void load_shared_plugins(PluginRegistry& registry, const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return;
  std::vector<std::string> paths;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec))
    if (entry.path().extension() == ".so") paths.push_back(entry.path().string());
  std::sort(paths.begin(), paths.end());
  for (const auto& path : paths)
    if (std::string reason = load_one(registry, path); !reason.empty())
      registry.add_load_error("plugin " + path + " refused: " + reason);
}

}  // namespace sluice
