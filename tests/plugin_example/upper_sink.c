/* An example out-of-tree sink plugin in plain C: appends each value,
 * upper-cased, as a line to `path`. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

#include "sluice/plugin.h"

static const sluice_host_api* host;

static sluice_error* upper_create(const sluice_config* config, void** instance) {
  const char* path = NULL;
  host->config_string(config, "path", &path);
  FILE* f = fopen(path, "a");
  if (!f) return host->error_new(SLUICE_ERROR_FATAL, "cannot open path");
  *instance = f;
  return NULL;
}

static void upper_destroy(void* instance) {
  if (instance) fclose(instance);
}

static sluice_error* upper_write(void* instance, const sluice_message* messages, size_t count) {
  FILE* f = instance;
  for (size_t i = 0; i < count; ++i) {
    for (size_t j = 0; j < messages[i].value_len; ++j) fputc(toupper((unsigned char)messages[i].value[j]), f);
    fputc('\n', f);
  }
  return NULL;
}

static sluice_error* upper_flush(void* instance) {
  return fflush(instance) == 0 ? NULL : host->error_new(SLUICE_ERROR_RETRIABLE, "flush failed");
}

static const sluice_option_decl options[] = {
    {"path", SLUICE_OPTION_STRING, NULL, "file the lines are appended to", 1, 0},
};

static const sluice_plugin_descriptor descriptor = {
    SLUICE_ABI_VERSION, sizeof(sluice_plugin_descriptor), "upper", SLUICE_PLUGIN_SINK,
    "appends each value upper-cased to a file (example C plugin)", options, 1, upper_create,
    upper_destroy, NULL, NULL, upper_write, upper_flush};

const sluice_plugin_descriptor* sluice_plugin_entry(uint32_t host_abi_version, const sluice_host_api* h) {
  if (host_abi_version != SLUICE_ABI_VERSION) return NULL;
  host = h;
  return &descriptor;
}
