/* A plugin built for a future ABI: the host must refuse it by version. */
#include "sluice/plugin.h"

static sluice_plugin_descriptor descriptor;

const sluice_plugin_descriptor* sluice_plugin_entry(uint32_t host_abi_version, const sluice_host_api* h) {
  (void)host_abi_version;
  (void)h;
  descriptor.abi_version = SLUICE_ABI_VERSION + 1;
  descriptor.struct_size = sizeof descriptor;
  descriptor.name = "future";
  return &descriptor;
}
