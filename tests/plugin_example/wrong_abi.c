/* A plugin of plugin ABI 1 (its descriptor began {1, size}): a host of ABI 2
 * must refuse it by its major version, reading nothing past the version. */
#include <stdint.h>

static struct {
  uint32_t abi_version;
  uint32_t struct_size;
  const char* name;
} descriptor = {1, sizeof descriptor, "old"};

const void* sluice_plugin_entry(uint32_t host_abi_version, const void* host) {
  (void)host_abi_version;
  (void)host;
  return &descriptor;
}
