/* A plugin that needs a host one minor version newer than the one loading
 * it (as a plugin built against a later header would): always refused,
 * with both versions named. */
#include "sluice/plugin.h"

static sluice_plugin_descriptor descriptor;

const sluice_plugin_descriptor* sluice_plugin_entry(uint32_t host_abi_version, const sluice_host_api* h) {
  (void)h;
  descriptor.abi_version = host_abi_version + 1;
  descriptor.struct_size = sizeof descriptor;
  descriptor.name = "future";
  return &descriptor;
}
