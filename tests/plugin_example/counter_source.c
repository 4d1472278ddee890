/* A test source plugin in plain C, built against sluice/plugin.h only:
 * emits {"n": 0..count-1, "tag": "<tag>"} with the headers n and tag. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
  char buf[256], number[32];
  const char* names[] = {"n", "tag"};
  const char* values[] = {number, c->tag};
  size_t lens[2];
  for (int64_t n = 0; n < c->count && !host->stopping(emitter); ++n) {
    int len = snprintf(buf, sizeof buf, "{\"n\":%lld,\"tag\":\"%s\"}", (long long)n, c->tag);
    lens[0] = (size_t)snprintf(number, sizeof number, "%lld", (long long)n);
    lens[1] = strlen(c->tag);
    sluice_record r = {sizeof r, buf, (size_t)len, NULL, 0, 2, names, values, lens};
    sluice_error* err = host->emit(emitter, &r);
    if (err) return err;
  }
  host->log(1, "counter source done");
  return NULL;
}

static const sluice_option_decl options[] = {
    {sizeof(sluice_option_decl), "count", SLUICE_OPTION_INT, "10", "how many records", 0, 0},
    {sizeof(sluice_option_decl), "tag", SLUICE_OPTION_STRING, NULL, "copied into every record", 1, 0},
};

static const sluice_option_decl* counter_option(size_t i) {
  return i < sizeof options / sizeof options[0] ? &options[i] : NULL;
}

static const sluice_plugin_descriptor descriptor = {
    .abi_version = SLUICE_ABI_VERSION,
    .struct_size = sizeof(sluice_plugin_descriptor),
    .name = "counter",
    .kind = SLUICE_PLUGIN_SOURCE,
    .help = "emits {n, tag} records with headers n and tag, n = 0..count-1 (test C plugin)",
    .option_count = sizeof options / sizeof options[0],
    .option_at = counter_option,
    .create = counter_create,
    .destroy = counter_destroy,
    .source_finite = counter_finite,
    .source_run = counter_run,
};

const sluice_plugin_descriptor* sluice_plugin_entry(uint32_t host_abi_version, const sluice_host_api* h) {
  /* Any 2.x host of 2.0 or later will do: this plugin uses nothing newer. */
  if (SLUICE_ABI_MAJOR_OF(host_abi_version) != SLUICE_ABI_VERSION_MAJOR || !SLUICE_HAS_MEMBER(h, sluice_host_api, wait_ms))
    return NULL;
  host = h;
  return &descriptor;
}
