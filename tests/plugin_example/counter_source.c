/* An example out-of-tree source plugin in plain C, built against
 * sluice/plugin.h only: emits {"n": 0..count-1, "tag": "<tag>"}. */
#include <stdio.h>
#include <stdlib.h>

#include "sluice/plugin.h"

static const sluice_host_api* host;

typedef struct counter {
  int64_t count;
  const char* tag;
} counter;

static sluice_error* counter_create(const sluice_config* config, void** instance) {
  counter* c = calloc(1, sizeof *c);
  if (!c) return host->error_new(SLUICE_ERROR_FATAL, "out of memory");
  host->config_int(config, "count", &c->count);
  host->config_string(config, "tag", &c->tag);
  *instance = c;
  return NULL;
}

static void counter_destroy(void* instance) { free(instance); }

static int counter_finite(void* instance) { (void)instance; return 1; }

static sluice_error* counter_run(void* instance, sluice_emitter* emitter) {
  counter* c = instance;
  char buf[256];
  for (int64_t n = 0; n < c->count && !host->stopping(emitter); ++n) {
    int len = snprintf(buf, sizeof buf, "{\"n\":%lld,\"tag\":\"%s\"}", (long long)n, c->tag);
    sluice_error* err = host->emit(emitter, buf, (size_t)len, NULL, 0);
    if (err) return err;
  }
  host->log(1, "counter source done");
  return NULL;
}

static const sluice_option_decl options[] = {
    {"count", SLUICE_OPTION_INT, "10", "how many records", 0, 0},
    {"tag", SLUICE_OPTION_STRING, NULL, "copied into every record", 1, 0},
};

static const sluice_plugin_descriptor descriptor = {
    SLUICE_ABI_VERSION, sizeof(sluice_plugin_descriptor), "counter", SLUICE_PLUGIN_SOURCE,
    "emits {n, tag} records, n = 0..count-1 (example C plugin)", options,
    sizeof options / sizeof options[0], counter_create, counter_destroy, counter_finite,
    counter_run, NULL, NULL};

const sluice_plugin_descriptor* sluice_plugin_entry(uint32_t host_abi_version, const sluice_host_api* h) {
  if (host_abi_version != SLUICE_ABI_VERSION || h->struct_size < sizeof(sluice_host_api)) return NULL;
  host = h;
  return &descriptor;
}
