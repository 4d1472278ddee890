/* An example sluice source plugin in plain C11: emits each line of a text
 * file as a record {"line": "...", "number": n} (n from 1), with the
 * headers `file` (the path) and `line_number`. The source is finite: the
 * sinks of the pipeline end once they have read every line.
 *
 * Build against the installed headers only: see the Makefile. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/plugin.h>

/* Kept from the handshake; valid while the plugin is loaded. */
static const sluice_host_api* host;

typedef struct lines_source {
  const char* path; /* owned by the host, valid as long as the instance */
} lines_source;

static sluice_error* lines_create(const sluice_config* config, void** instance) {
  lines_source* s = calloc(1, sizeof *s);
  if (!s) return host->error_new(SLUICE_ERROR_FATAL, "out of memory");
  host->config_string(config, "path", &s->path); /* required: validated by the host */
  *instance = s;
  return NULL;
}

static void lines_destroy(void* instance) { free(instance); }

static int lines_finite(void* instance) {
  (void)instance;
  return 1;
}

/* Appends `text` as the body of a JSON string to buf (grown as needed). */
static int append_json_string(char** buf, size_t* cap, size_t* len, const char* text, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (*len + 8 > *cap) {
      size_t grown = *cap * 2 + 64;
      char* p = realloc(*buf, grown);
      if (!p) return 0;
      *buf = p;
      *cap = grown;
    }
    unsigned char c = (unsigned char)text[i];
    if (c == '"' || c == '\\') {
      (*buf)[(*len)++] = '\\';
      (*buf)[(*len)++] = (char)c;
    } else if (c < 0x20) {
      *len += (size_t)snprintf(*buf + *len, *cap - *len, "\\u%04x", c);
    } else {
      (*buf)[(*len)++] = (char)c;
    }
  }
  return 1;
}

static sluice_error* lines_run(void* instance, sluice_emitter* emitter) {
  lines_source* s = instance;
  FILE* f = fopen(s->path, "r");
  if (!f) {
    /* Name the file and why: the user must be able to fix it from this line. */
    char message[512];
    snprintf(message, sizeof message, "cannot open %s (the option `path`): %s", s->path, strerror(errno));
    return host->error_new(SLUICE_ERROR_FATAL, message);
  }
  char *line = NULL, *json = NULL;
  size_t line_cap = 0, json_cap = 0;
  sluice_error* err = NULL;
  char number[32];
  const char* names[] = {"file", "line_number"};
  const char* values[] = {s->path, number};
  size_t lens[] = {strlen(s->path), 0};
  ssize_t got;
  for (long long n = 1; !host->stopping(emitter) && (got = getline(&line, &line_cap, f)) >= 0; ++n) {
    size_t line_len = (size_t)got;
    while (line_len > 0 && (line[line_len - 1] == '\n' || line[line_len - 1] == '\r')) --line_len;
    const char* head = "{\"line\":\"";
    size_t len = strlen(head);
    if (json_cap < 64) {
      char* p = realloc(json, 64);
      if (!p) { err = host->error_new(SLUICE_ERROR_FATAL, "out of memory"); break; }
      json = p;
      json_cap = 64;
    }
    memcpy(json, head, len);
    if (!append_json_string(&json, &json_cap, &len, line, line_len)) {
      err = host->error_new(SLUICE_ERROR_FATAL, "out of memory");
      break;
    }
    char tail[48];
    int tail_len = snprintf(tail, sizeof tail, "\",\"number\":%lld}", n);
    if (len + (size_t)tail_len + 1 > json_cap) {
      char* p = realloc(json, len + (size_t)tail_len + 1);
      if (!p) { err = host->error_new(SLUICE_ERROR_FATAL, "out of memory"); break; }
      json = p;
      json_cap = len + (size_t)tail_len + 1;
    }
    memcpy(json + len, tail, (size_t)tail_len);
    len += (size_t)tail_len;
    lens[1] = (size_t)snprintf(number, sizeof number, "%lld", n);
    /* The host copies the record before emit returns. */
    sluice_record record = {sizeof record, json, len, NULL, 0, 2, names, values, lens};
    err = host->emit(emitter, &record); /* ours if not NULL: handed back below */
    if (err) break;
  }
  free(line);
  free(json);
  fclose(f);
  return err;
}

/* `sluice check --connect`: the file can be read. */
static sluice_error* lines_probe(const sluice_config* config, sluice_probe* probe) {
  const char* path = NULL;
  char text[1024];
  host->config_string(config, "path", &path);
  FILE* f = fopen(path, "r");
  snprintf(text, sizeof text, "%s %s", f ? "can read" : "cannot read", path);
  host->probe_line(probe, f != NULL, text);
  if (f) fclose(f);
  return NULL;
}

static const sluice_option_decl options[] = {
    {sizeof(sluice_option_decl), "path", SLUICE_OPTION_STRING, NULL, "the text file whose lines are emitted", 1, 0},
};

/* Options are read by index: the struct may grow in later ABI versions. */
static const sluice_option_decl* lines_option(size_t i) {
  return i < sizeof options / sizeof options[0] ? &options[i] : NULL;
}

static const sluice_plugin_descriptor descriptor = {
    .abi_version = SLUICE_ABI_VERSION, /* the oldest host this plugin runs in */
    .struct_size = sizeof(sluice_plugin_descriptor),
    .name = "lines",
    .kind = SLUICE_PLUGIN_SOURCE,
    .help = "emits each line of a text file as {line, number}, with headers file and line_number (example C plugin)",
    .option_count = sizeof options / sizeof options[0],
    .option_at = lines_option,
    .create = lines_create,
    .destroy = lines_destroy,
    .probe = lines_probe,
    .source_finite = lines_finite,
    .source_run = lines_run,
};

const sluice_plugin_descriptor* sluice_plugin_entry(uint32_t host_abi_version, const sluice_host_api* h) {
  /* Any host of our major version at least as new as our header will do;
   * the host checks the minor version itself. */
  if (SLUICE_ABI_MAJOR_OF(host_abi_version) != SLUICE_ABI_VERSION_MAJOR) return NULL;
  host = h;
  return &descriptor;
}
