/* A test sink plugin in plain C: appends each value, upper-cased, as a line
 * to `path`; with `headers`, followed by " |" and each header name=value.
 * A record containing `reject` is rejected with a message; the first record
 * containing `fail_once` fails retriably once (the host must then resume at
 * it). The probe checks that the file can be opened for appending. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/plugin.h"

static const sluice_host_api* host;

typedef struct upper {
  FILE* f;
  int headers;
  const char* reject;
  const char* fail_once;
  int failed;
} upper;

static sluice_error* upper_create(const sluice_config* config, void** instance) {
  const char* path = NULL;
  upper* u = calloc(1, sizeof *u);
  if (!u) return host->error_new(SLUICE_ERROR_FATAL, "out of memory");
  host->config_string(config, "path", &path);
  host->config_bool(config, "headers", &u->headers);
  host->config_string(config, "reject", &u->reject);
  host->config_string(config, "fail_once", &u->fail_once);
  u->f = fopen(path, "a");
  if (!u->f) {
    free(u);
    return host->error_new(SLUICE_ERROR_FATAL, "cannot open path");
  }
  *instance = u;
  return NULL;
}

static void upper_destroy(void* instance) {
  upper* u = instance;
  if (!u) return;
  fclose(u->f);
  free(u);
}

static int contains(const char* value, size_t len, const char* needle) {
  size_t n = needle ? strlen(needle) : 0;
  if (n == 0) return 0;
  for (size_t i = 0; i + n <= len; ++i)
    if (memcmp(value + i, needle, n) == 0) return 1;
  return 0;
}

static sluice_error* upper_write(void* instance, const sluice_batch* batch, sluice_write_result* result) {
  upper* u = instance;
  size_t count = host->batch_count(batch);
  for (size_t i = 0; i < count; ++i) {
    const sluice_message* m = host->batch_message(batch, i);
    size_t len = 0;
    const char* value = host->message_value(m, &len);
    if (contains(value, len, u->reject)) {
      host->record_failed(result, i, 0, "value contains the rejected word");
      continue;
    }
    if (!u->failed && contains(value, len, u->fail_once)) {
      u->failed = 1;
      host->record_failed(result, i, 1, "simulated outage");
      return NULL;
    }
    for (size_t j = 0; j < len; ++j) fputc(toupper((unsigned char)value[j]), u->f);
    if (u->headers) {
      fputs(" |", u->f);
      for (size_t h = 0, n = host->message_header_count(m); h < n; ++h) {
        const char *name, *text;
        size_t name_len, text_len;
        host->message_header_at(m, h, &name, &name_len, &text, &text_len);
        fprintf(u->f, " %.*s=%.*s", (int)name_len, name, (int)text_len, text ? text : "(null)");
      }
    }
    fputc('\n', u->f);
  }
  return NULL;
}

static sluice_error* upper_flush(void* instance) {
  upper* u = instance;
  return fflush(u->f) == 0 ? NULL : host->error_new(SLUICE_ERROR_RETRIABLE, "flush failed");
}

static sluice_error* upper_probe(const sluice_config* config, sluice_probe* probe) {
  const char* path = NULL;
  char line[512];
  host->config_string(config, "path", &path);
  FILE* f = fopen(path, "a");
  snprintf(line, sizeof line, "%s %s", f ? "can append to" : "cannot open", path);
  host->probe_line(probe, f != NULL, line);
  if (f) fclose(f);
  return NULL;
}

static const sluice_option_decl options[] = {
    {sizeof(sluice_option_decl), "path", SLUICE_OPTION_STRING, NULL, "file the lines are appended to", 1, 0},
    {sizeof(sluice_option_decl), "headers", SLUICE_OPTION_BOOL, "false", "append each record's headers", 0, 0},
    {sizeof(sluice_option_decl), "reject", SLUICE_OPTION_STRING, NULL, "reject records containing this", 0, 0},
    {sizeof(sluice_option_decl), "fail_once", SLUICE_OPTION_STRING, NULL,
     "fail the first record containing this, retriably, once", 0, 0},
};

static const sluice_option_decl* upper_option(size_t i) {
  return i < sizeof options / sizeof options[0] ? &options[i] : NULL;
}

static const sluice_plugin_descriptor descriptor = {
    .abi_version = SLUICE_ABI_VERSION,
    .struct_size = sizeof(sluice_plugin_descriptor),
    .name = "upper",
    .kind = SLUICE_PLUGIN_SINK,
    .help = "appends each value upper-cased to a file (test C plugin)",
    .option_count = sizeof options / sizeof options[0],
    .option_at = upper_option,
    .create = upper_create,
    .destroy = upper_destroy,
    .probe = upper_probe,
    .sink_write = upper_write,
    .sink_flush = upper_flush,
    .wants_headers = 1,
};

const sluice_plugin_descriptor* sluice_plugin_entry(uint32_t host_abi_version, const sluice_host_api* h) {
  if (SLUICE_ABI_MAJOR_OF(host_abi_version) != SLUICE_ABI_VERSION_MAJOR) return NULL;
  host = h;
  return &descriptor;
}
