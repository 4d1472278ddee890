#include "plugin/so_loader.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

#include "plugin/c_abi_adapter.h"
#include "plugin/registry.h"

namespace sluice {

namespace {

std::string version_text(uint32_t version) {
  return std::to_string(SLUICE_ABI_MAJOR_OF(version)) + "." + std::to_string(SLUICE_ABI_MINOR_OF(version));
}

// The smallest descriptor a plugin of each minor version of ABI 2 has: the
// members that minor defines. A later minor adds its line here, with the
// member it ends at.
size_t min_descriptor_size(uint32_t minor) {
  (void)minor;  // 2.0 is the only one so far
  return offsetof(sluice_plugin_descriptor, wants_headers) + sizeof(sluice_plugin_descriptor::wants_headers);
}

}  // namespace

HostAbi this_host_abi() { return {SLUICE_ABI_VERSION, host_api()}; }

std::string load_shared_plugin(PluginRegistry& registry, const std::string& path, const HostAbi& host) {
  std::shared_ptr<void> library(dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL), [](void* h) {
    if (h) dlclose(h);
  });
  if (!library) return dlerror();
  dlerror();
  void* symbol = dlsym(library.get(), SLUICE_PLUGIN_ENTRY_NAME);
  if (!symbol) return "missing symbol `" SLUICE_PLUGIN_ENTRY_NAME "`";
  auto entry = reinterpret_cast<sluice_plugin_entry_fn>(symbol);
  const sluice_plugin_descriptor* theirs = entry(host.version, host.table);
  if (!theirs)
    return "its entry point returned no descriptor: it refused a host of plugin ABI " + version_text(host.version) +
           " (as a plugin built for another major version does)";
  // The version first: the rest of the layout depends on it. A plugin of
  // ABI 1 (a plain 1, packed as 0.1) reads as major 0: any other major is refused alike.
  const uint32_t version = theirs->abi_version;
  const uint32_t major = SLUICE_ABI_MAJOR_OF(version), minor = SLUICE_ABI_MINOR_OF(version);
  if (major != SLUICE_ABI_MAJOR_OF(host.version)) {
    const uint32_t shown = major == 0 ? version : major;  // ABI 1 stored a plain integer
    return "built for plugin ABI " + std::to_string(shown) + ".x, this sluice speaks " + version_text(host.version);
  }
  if (minor > SLUICE_ABI_MINOR_OF(host.version))
    return "needs plugin ABI " + version_text(version) + ", this sluice speaks " + version_text(host.version);
  const size_t need = min_descriptor_size(minor);
  if (theirs->struct_size < need)
    return "descriptor is " + std::to_string(theirs->struct_size) + " bytes, plugin ABI " + version_text(version) +
           " needs at least " + std::to_string(need);
  // Only the plugin's bytes are read; members it lacks stay zero.
  sluice_plugin_descriptor d{};
  std::memcpy(&d, theirs, std::min<size_t>(theirs->struct_size, sizeof d));
  try {
    registry.add(adapt_c_plugin(d, path, library));
  } catch (const std::exception& e) {
    return e.what();
  }
  return {};
}

void load_shared_plugins(PluginRegistry& registry, const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return;
  std::vector<std::string> paths;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec))
    if (entry.path().extension() == ".so") paths.push_back(entry.path().string());
  std::sort(paths.begin(), paths.end());
  for (const auto& path : paths)
    if (std::string reason = load_shared_plugin(registry, path, this_host_abi()); !reason.empty())
      registry.add_load_error("plugin " + path + " refused: " + reason);
}

}  // namespace sluice
