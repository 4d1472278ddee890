/* An example sluice sink plugin in plain C11: appends each record's value
 * as a line to `path`, exactly once, like the built-in PostgreSQL sink.
 *
 * How: it stores its own offsets, in `<path>.offsets`, with the length the
 * data file had when they were stored. A batch is appended and synced, then
 * the offsets file is replaced (written aside, synced, renamed): that rename
 * commits the batch. On assignment the data file is cut back to the stored
 * length (dropping a batch a crash left uncommitted) and the host is told
 * to read on from the stored offsets, so nothing is lost or written twice.
 * Kafka's committed offsets are only for lag monitoring then.
 *
 * A record whose value spans several lines is rejected (it would break the
 * file's one-record-per-line form): the host counts it with the reason.
 * One sink instance per path: the files are not shared between instances. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <sluice/plugin.h>

static const sluice_host_api* host;

typedef struct partition_state {
  int32_t partition;
  int64_t next_offset;
  int assigned;
} partition_state;

typedef struct file_once {
  FILE* data;
  char* state_path;
  char* state_tmp;
  long long length; /* of the data file, as of the stored offsets */
  partition_state* parts;
  size_t part_count, part_cap;
} file_once;

static char* joined(const char* a, const char* b) {
  size_t n = strlen(a) + strlen(b) + 1;
  char* s = malloc(n);
  if (s) snprintf(s, n, "%s%s", a, b);
  return s;
}

static partition_state* find_part(file_once* s, int32_t partition, int add) {
  for (size_t i = 0; i < s->part_count; ++i)
    if (s->parts[i].partition == partition) return &s->parts[i];
  if (!add) return NULL;
  if (s->part_count == s->part_cap) {
    size_t cap = s->part_cap * 2 + 8;
    partition_state* p = realloc(s->parts, cap * sizeof *p);
    if (!p) return NULL;
    s->parts = p;
    s->part_cap = cap;
  }
  partition_state* p = &s->parts[s->part_count++];
  p->partition = partition;
  p->next_offset = -1;
  p->assigned = 0;
  return p;
}

static sluice_error* errno_error(int code, const char* what) {
  char text[512];
  snprintf(text, sizeof text, "%s: %s", what, strerror(errno));
  return host->error_new(code, text);
}

static void file_once_destroy(void* instance) {
  file_once* s = instance;
  if (!s) return;
  if (s->data) fclose(s->data);
  free(s->state_path);
  free(s->state_tmp);
  free(s->parts);
  free(s);
}

static sluice_error* file_once_create(const sluice_config* config, void** instance) {
  const char* path = NULL;
  host->config_string(config, "path", &path);
  file_once* s = calloc(1, sizeof *s);
  if (!s) return host->error_new(SLUICE_ERROR_FATAL, "out of memory");
  s->state_path = joined(path, ".offsets");
  s->state_tmp = joined(path, ".offsets.tmp");
  s->data = fopen(path, "a+");
  if (!s->state_path || !s->state_tmp || !s->data) {
    sluice_error* err = errno_error(SLUICE_ERROR_FATAL, "cannot open the file of `path`");
    file_once_destroy(s);
    return err;
  }
  *instance = s;
  return NULL;
}

/* Reads `<path>.offsets`: "length N" then "partition P next O" lines. A
 * missing file is an empty store (nothing written yet). */
static sluice_error* read_state(file_once* s) {
  s->length = 0;
  for (size_t i = 0; i < s->part_count; ++i) s->parts[i].next_offset = -1;
  FILE* f = fopen(s->state_path, "r");
  if (!f) return errno == ENOENT ? NULL : errno_error(SLUICE_ERROR_RETRIABLE, "reading the offsets file");
  sluice_error* err = NULL;
  if (fscanf(f, "length %lld\n", &s->length) != 1) err = host->error_new(SLUICE_ERROR_FATAL, "malformed offsets file");
  int partition;
  long long next;
  while (!err && fscanf(f, "partition %d next %lld\n", &partition, &next) == 2) {
    partition_state* p = find_part(s, partition, 1);
    if (!p) err = host->error_new(SLUICE_ERROR_FATAL, "out of memory");
    else p->next_offset = next;
  }
  fclose(f);
  return err;
}

/* Replaces the offsets file: the commit point of a batch. */
static sluice_error* write_state(file_once* s) {
  FILE* f = fopen(s->state_tmp, "w");
  if (!f) return errno_error(SLUICE_ERROR_RETRIABLE, "writing the offsets file");
  fprintf(f, "length %lld\n", s->length);
  for (size_t i = 0; i < s->part_count; ++i)
    if (s->parts[i].next_offset >= 0)
      fprintf(f, "partition %d next %lld\n", (int)s->parts[i].partition, (long long)s->parts[i].next_offset);
  int failed = fflush(f) != 0 || fsync(fileno(f)) != 0;
  failed |= fclose(f) != 0;
  if (failed || rename(s->state_tmp, s->state_path) != 0)
    return errno_error(SLUICE_ERROR_RETRIABLE, "writing the offsets file");
  return NULL;
}

/* Runs on the sink's consumer thread, never during a write. */
static sluice_error* file_once_assign(void* instance, const char* topic, const int32_t* partitions, size_t count,
                                      const sluice_offsets* committed, sluice_offsets* next) {
  file_once* s = instance;
  (void)topic;
  (void)committed; /* Kafka's offsets are not ours: a crash may have left them behind or ahead */
  sluice_error* err = read_state(s);
  if (err) return err;
  /* Whatever follows the stored length was appended by a batch that never
   * committed: its records are read again from the stored offsets. */
  fflush(s->data);
  if (ftruncate(fileno(s->data), (off_t)s->length) != 0) return errno_error(SLUICE_ERROR_RETRIABLE, "cutting the data file");
  for (size_t i = 0; i < count; ++i) {
    partition_state* p = find_part(s, partitions[i], 1);
    if (!p) return host->error_new(SLUICE_ERROR_FATAL, "out of memory");
    p->assigned = 1;
    if (p->next_offset >= 0) host->offsets_set(next, partitions[i], p->next_offset);
  }
  return NULL;
}

static void file_once_revoke(void* instance, const char* topic, const int32_t* partitions, size_t count) {
  file_once* s = instance;
  (void)topic;
  for (size_t i = 0; i < count; ++i) {
    partition_state* p = find_part(s, partitions[i], 0);
    if (p) p->assigned = 0;
  }
}

/* Runs on the sink's writer thread. */
static sluice_error* file_once_write(void* instance, const sluice_batch* batch, sluice_write_result* result) {
  file_once* s = instance;
  size_t count = host->batch_count(batch);
  /* A failed attempt may have appended part of the batch: cut it off first. */
  if (fflush(s->data) != 0 || ftruncate(fileno(s->data), (off_t)s->length) != 0)
    return errno_error(SLUICE_ERROR_RETRIABLE, "cutting the data file");
  for (size_t i = 0; i < count; ++i) {
    const sluice_message* m = host->batch_message(batch, i);
    partition_state* p = find_part(s, host->message_partition(m), 0);
    if (!p || !p->assigned) return host->error_new(SLUICE_ERROR_FENCED, "a record of a partition not assigned here");
    size_t len = 0;
    const char* value = host->message_value(m, &len);
    if (value && memchr(value, '\n', len)) {
      host->record_failed(result, i, 0, "the value spans several lines");
      continue;
    }
    if ((len && fwrite(value, 1, len, s->data) != len) || fputc('\n', s->data) == EOF)
      return errno_error(SLUICE_ERROR_RETRIABLE, "appending to the data file");
  }
  if (fflush(s->data) != 0 || fsync(fileno(s->data)) != 0) return errno_error(SLUICE_ERROR_RETRIABLE, "syncing the data file");
  /* The batch's offsets (they cover records the sink was not given too). */
  for (size_t i = 0, n = host->batch_partition_count(batch); i < n; ++i) {
    int32_t partition;
    int64_t next;
    host->batch_partition_at(batch, i, &partition, &next);
    partition_state* p = find_part(s, partition, 1);
    if (!p) return host->error_new(SLUICE_ERROR_FATAL, "out of memory");
    p->next_offset = next;
  }
  long long before = s->length;
  off_t end = lseek(fileno(s->data), 0, SEEK_END);
  if (end < 0) return errno_error(SLUICE_ERROR_RETRIABLE, "appending to the data file");
  s->length = (long long)end;
  sluice_error* err = write_state(s);
  if (err) s->length = before; /* not committed: the retry cuts the file back and appends the batch again */
  return err;
}

/* `sluice check --connect`: the data file can be opened for appending. */
static sluice_error* file_once_probe(const sluice_config* config, sluice_probe* probe) {
  const char* path = NULL;
  char text[1024];
  host->config_string(config, "path", &path);
  FILE* f = fopen(path, "a");
  snprintf(text, sizeof text, "%s %s", f ? "can append to" : "cannot open", path);
  host->probe_line(probe, f != NULL, text);
  if (f) fclose(f);
  return NULL;
}

static const sluice_option_decl options[] = {
    {sizeof(sluice_option_decl), "path", SLUICE_OPTION_STRING, NULL,
     "file the values are appended to, one per line; its offsets are kept in <path>.offsets", 1, 0},
};

static const sluice_option_decl* file_once_option(size_t i) {
  return i < sizeof options / sizeof options[0] ? &options[i] : NULL;
}

static const sluice_plugin_descriptor descriptor = {
    .abi_version = SLUICE_ABI_VERSION,
    .struct_size = sizeof(sluice_plugin_descriptor),
    .name = "file_once",
    .kind = SLUICE_PLUGIN_SINK,
    .help = "appends each value as a line to a file, exactly once, with its offsets beside it (example C plugin)",
    .option_count = sizeof options / sizeof options[0],
    .option_at = file_once_option,
    .create = file_once_create,
    .destroy = file_once_destroy,
    .probe = file_once_probe,
    .sink_write = file_once_write,
    .sink_assign = file_once_assign,
    .sink_revoke = file_once_revoke,
};

const sluice_plugin_descriptor* sluice_plugin_entry(uint32_t host_abi_version, const sluice_host_api* h) {
  if (SLUICE_ABI_MAJOR_OF(host_abi_version) != SLUICE_ABI_VERSION_MAJOR) return NULL;
  host = h;
  return &descriptor;
}
