#include "plugin/registry.h"

#include <cstdlib>
#include <sstream>

#include "plugin/so_loader.h"

#ifndef SLUICE_DEFAULT_PLUGIN_DIR
#define SLUICE_DEFAULT_PLUGIN_DIR "/usr/lib/sluice/plugins"
#endif

namespace sluice {

void PluginRegistry::add(PluginInfo info) {
  if (const PluginInfo* existing = find(info.kind, info.name)) {
    add_load_error(std::string(to_string(info.kind)) + " plugin `" + info.name + "` from " +
                   info.origin + " is refused: the name is taken by " + existing->origin);
    return;
  }
  plugins_.push_back(std::make_unique<PluginInfo>(std::move(info)));
}

const PluginInfo* PluginRegistry::find(PluginKind kind, const std::string& name) const {
  for (const auto& p : plugins_)
    if (p->kind == kind && p->name == name) return p.get();
  return nullptr;
}

std::vector<std::string> PluginRegistry::names(PluginKind kind) const {
  std::vector<std::string> out;
  for (const auto& p : plugins_)
    if (p->kind == kind) out.push_back(p->name);
  return out;
}

std::vector<std::string> plugin_search_path(const std::string& cli_path) {
  std::vector<std::string> dirs;
  auto split = [&dirs](const std::string& list) {
    std::stringstream in(list);
    for (std::string dir; std::getline(in, dir, ':');)
      if (!dir.empty()) dirs.push_back(dir);
  };
  split(cli_path);
  if (const char* env = std::getenv("SLUICE_PLUGIN_PATH")) split(env);
  dirs.push_back(SLUICE_DEFAULT_PLUGIN_DIR);
  return dirs;
}

void load_plugin_directories(PluginRegistry& registry, const std::vector<std::string>& dirs) {
  for (const auto& dir : dirs) load_shared_plugins(registry, dir);
}

}  // namespace sluice
