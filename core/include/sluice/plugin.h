/* The C ABI of sluice plugins built as shared objects (plugin ABI 2).
 *
 * HANDSHAKE. A plugin exports one function, SLUICE_PLUGIN_ENTRY_NAME, of
 * type sluice_plugin_entry_fn. The host calls it once, on the main thread,
 * with its packed ABI version and its table of functions; the plugin keeps
 * the table (valid while the plugin is loaded) and returns a static
 * descriptor that begins with {abi_version, struct_size}. `abi_version` is
 * the version the plugin was built against: the oldest host it can run in.
 * The host
 *   - refuses a plugin of another major version ("built for plugin ABI
 *     1.x, this sluice speaks 2.0");
 *   - refuses a plugin of a newer minor version than its own ("needs plugin
 *     ABI 2.3, this sluice speaks 2.1");
 *   - accepts a plugin of its own or an older minor version, and reads only
 *     the descriptor members inside the plugin's struct_size (a member the
 *     plugin lacks counts as NULL / 0).
 * The entry point may return NULL to refuse a host (e.g. one whose table
 * lacks a function the plugin needs); the host then reports that.
 *
 * GROWING. Within a major version, structs only grow at their end and every
 * struct that crosses the boundary starts with its size, or is opaque and
 * read through accessor functions (messages, headers, batches): there are no
 * arrays of structs whose size may change. A plugin built against a newer
 * header than the host's calls a host function only when it lies inside
 * host->struct_size: test with SLUICE_HAS_MEMBER(host, sluice_host_api, fn).
 * A plugin never links libsluice: all it needs from the host comes through
 * the table.
 *
 * OWNERSHIP. Strings and objects the host passes are valid for the duration
 * of the call only, unless stated otherwise; copy what you keep. The host
 * copies what the plugin passes before the call returns. An error returned
 * by a plugin function is made with host->error_new and is then owned (and
 * freed) by the host; an error returned by host->emit is owned by the
 * plugin, which returns it (handing it back) or frees it with
 * host->error_free. No C++ exception may cross this boundary.
 *
 * THREADS. create, destroy and probe run on the thread that builds, checks
 * or tears down the pipeline, never at the same time as another call on the
 * same instance. A source's source_run runs on a thread of its own, one per
 * source instance; host->emit may be called from any thread of the plugin's
 * while source_run has not returned. A sink instance is called by one
 * thread at a time, but not always the same one: sink_write and sink_flush
 * on the sink's writer thread, sink_assign and sink_revoke on its consumer
 * thread, never while a write is in progress. Different instances run in
 * parallel: keep state per instance, not in globals. host->log may be called
 * from any thread. */
#ifndef SLUICE_PLUGIN_H
#define SLUICE_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SLUICE_ABI_VERSION_MAJOR 2
#define SLUICE_ABI_VERSION_MINOR 0
/* A version packed in one integer: major in the high 16 bits, minor in the low. */
#define SLUICE_ABI_MAKE_VERSION(major, minor) ((uint32_t)(((uint32_t)(major) << 16) | (uint32_t)(minor)))
#define SLUICE_ABI_VERSION SLUICE_ABI_MAKE_VERSION(SLUICE_ABI_VERSION_MAJOR, SLUICE_ABI_VERSION_MINOR)
#define SLUICE_ABI_MAJOR_OF(version) ((uint32_t)(version) >> 16)
#define SLUICE_ABI_MINOR_OF(version) ((uint32_t)(version) & 0xffffu)

#define SLUICE_PLUGIN_ENTRY_NAME "sluice_plugin_entry"

/* Whether the struct *ptr (of type `type`, starting with its struct_size)
 * reaches to the end of `member`: true for every member the other side knew. */
#define SLUICE_HAS_MEMBER(ptr, type, member) \
  ((ptr)->struct_size >= offsetof(type, member) + sizeof(((type*)0)->member))

typedef struct sluice_error sluice_error;         /* opaque, made by the host */
typedef struct sluice_config sluice_config;       /* opaque: a plugin's validated options */
typedef struct sluice_emitter sluice_emitter;     /* opaque: where a source puts records */
typedef struct sluice_message sluice_message;     /* opaque: one record given to a sink */
typedef struct sluice_batch sluice_batch;         /* opaque: the records of one sink_write */
typedef struct sluice_write_result sluice_write_result; /* opaque: per-record outcomes of a sink_write */
typedef struct sluice_offsets sluice_offsets;     /* opaque: offsets per partition */
typedef struct sluice_probe sluice_probe;         /* opaque: the lines of a connect check */

typedef enum sluice_error_code {
  SLUICE_ERROR_RETRIABLE = 1, /* try again later (connection lost, timeout) */
  SLUICE_ERROR_FATAL = 2,     /* stop the pipeline */
  SLUICE_ERROR_CONFIG = 3,    /* a mistake in the pipeline's settings (create, probe) */
  SLUICE_ERROR_FENCED = 4,    /* sinks storing offsets: another instance moved them on (see sink_write) */
  /* Only from the embedding API (sluice.h): */
  SLUICE_ERROR_CONNECT = 5,   /* an outside system (Kafka, a database) could not be reached at start */
  SLUICE_ERROR_AGAIN = 6,     /* not now: a queue is full, or the run has not ended yet */
  SLUICE_ERROR_STOPPED = 7,   /* the pipeline stops or stopped, or the source was closed */
  SLUICE_ERROR_USAGE = 8      /* a call that does not fit: unknown name, wrong state, NULL argument */
} sluice_error_code;

typedef enum sluice_plugin_kind { SLUICE_PLUGIN_SOURCE = 1, SLUICE_PLUGIN_SINK = 2 } sluice_plugin_kind;

typedef enum sluice_option_type {
  SLUICE_OPTION_BOOL = 1,
  SLUICE_OPTION_INT = 2,
  SLUICE_OPTION_NUMBER = 3,
  SLUICE_OPTION_STRING = 4,
  SLUICE_OPTION_DURATION = 5
} sluice_option_type;

/* One option of a plugin. The host reads them through the descriptor's
 * option_at (no array: this struct may grow). */
typedef struct sluice_option_decl {
  size_t struct_size;        /* sizeof(sluice_option_decl) in the plugin's build */
  const char* name;
  int type;                  /* sluice_option_type */
  const char* default_value; /* as written in TOML without quotes ("100ms", "10", "true"); NULL: none */
  const char* help;
  int required;
  int secret;                /* never shown in logs, errors or `sluice check` output */
} sluice_option_decl;

/* A record a source emits with host->emit. Set struct_size to
 * sizeof(sluice_record); members the host does not know are ignored. */
typedef struct sluice_record {
  size_t struct_size;
  const char* value;
  size_t value_len;
  const char* key;            /* NULL: no key (the pipeline's `key` option may extract one) */
  size_t key_len;
  size_t header_count;        /* headers: parallel arrays of header_count entries */
  const char* const* header_names;   /* NUL-terminated */
  const char* const* header_values;  /* NULL entry: a null header value */
  const size_t* header_value_lens;
} sluice_record;

/* The host's table. Check SLUICE_HAS_MEMBER(host, sluice_host_api, f)
 * before calling a function added after the version you require. */
typedef struct sluice_host_api {
  uint32_t abi_version; /* the host's SLUICE_ABI_VERSION */
  uint32_t struct_size; /* sizeof(sluice_host_api) in the host's build */

  /* Errors. error_new makes one (message copied); returned from a plugin
   * function, the host owns and frees it. error_free frees one the plugin
   * owns (NULL-safe). */
  sluice_error* (*error_new)(int code, const char* message);
  void (*error_free)(sluice_error* error);
  /* level: 0 debug, 1 info, 2 warning, 3 error. Any thread. */
  void (*log)(int level, const char* message);

  /* Options: 1 when the option has a value (set or default), else 0. A
   * string stays valid until the instance is destroyed (or, in probe, until
   * it returns). */
  int (*config_string)(const sluice_config* config, const char* name, const char** value);
  int (*config_int)(const sluice_config* config, const char* name, int64_t* value);
  int (*config_number)(const sluice_config* config, const char* name, double* value);
  int (*config_bool)(const sluice_config* config, const char* name, int* value);
  int (*config_duration_ms)(const sluice_config* config, const char* name, int64_t* value);

  /* Sources. emit copies one record and blocks while the producer's queue
   * is full. A non-NULL error (owned by the plugin) means: stop producing
   * and return it from source_run. stopping is 1 once the pipeline shuts
   * down. wait_ms sleeps up to `ms` or until the stop; 0 when stopping. */
  sluice_error* (*emit)(sluice_emitter* emitter, const sluice_record* record);
  int (*stopping)(sluice_emitter* emitter);
  int (*wait_ms)(sluice_emitter* emitter, int64_t ms);

  /* Sinks: the records of a batch, in order (valid during sink_write). */
  size_t (*batch_count)(const sluice_batch* batch);
  const sluice_message* (*batch_message)(const sluice_batch* batch, size_t index);
  /* Per partition of the batch, the offset after its last record: what a
   * sink that stores its offsets stores with the batch's records. These
   * cover records the sink is not given (dropped or rejected by the
   * sink's transforms) too. */
  size_t (*batch_partition_count)(const sluice_batch* batch);
  void (*batch_partition_at)(const sluice_batch* batch, size_t index, int32_t* partition, int64_t* next_offset);

  /* One record. Strings: topic NUL-terminated; key and value by length (a
   * NULL key: none; a NULL value: a tombstone). */
  const char* (*message_topic)(const sluice_message* message);
  int32_t (*message_partition)(const sluice_message* message);
  int64_t (*message_offset)(const sluice_message* message);
  int64_t (*message_timestamp_ms)(const sluice_message* message); /* -1: none */
  const char* (*message_key)(const sluice_message* message, size_t* len);
  const char* (*message_value)(const sluice_message* message, size_t* len);
  /* Headers (given only to a sink whose descriptor sets wants_headers):
   * header_at sets name (NUL-terminated is not guaranteed: use name_len)
   * and value (NULL: a null value); 0 when index is out of range. */
  size_t (*message_header_count)(const sluice_message* message);
  int (*message_header_at)(const sluice_message* message, size_t index, const char** name, size_t* name_len,
                           const char** value, size_t* value_len);

  /* Sinks: the per-record outcome of sink_write. record_failed says the
   * record at `index` was not stored, with a message (copied):
   *   retriable = 0: the record is rejected (counted, shown in the rejects
   *     with the message); the other records count as written.
   *   retriable = 1: the write failed for now at this record: records
   *     before `index` are stored, this one and those after are not. The
   *     host backs off and calls sink_write again with the batch from
   *     `index` on (the same records, batch_message(0) being this one).
   * Report at most one retriable failure, after any rejects before it. */
  void (*record_failed)(sluice_write_result* result, size_t index, int retriable, const char* message);

  /* Sinks: offsets per partition, for sink_assign. offsets_get: 1 and the
   * offset when `offsets` has one for the partition. offsets_set: the next
   * offset to read for the partition. */
  int (*offsets_get)(const sluice_offsets* offsets, int32_t partition, int64_t* offset);
  void (*offsets_set)(sluice_offsets* offsets, int32_t partition, int64_t offset);

  /* Probes: one line of `sluice check --connect` (text copied); ok 0 is a
   * FAIL line. probe_timeout_ms: the bound for each connection attempt. */
  void (*probe_line)(sluice_probe* probe, int ok, const char* text);
  int64_t (*probe_timeout_ms)(const sluice_probe* probe);
} sluice_host_api;

typedef struct sluice_plugin_descriptor {
  uint32_t abi_version; /* SLUICE_ABI_VERSION the plugin was built against: the oldest host it runs in */
  uint32_t struct_size; /* sizeof(sluice_plugin_descriptor) in the plugin's build */
  const char* name;     /* the `type` in a pipeline file */
  int kind;             /* sluice_plugin_kind */
  const char* help;     /* one line */
  /* The option table, by index; option_at returns NULL past the end. */
  size_t option_count;
  const sluice_option_decl* (*option_at)(size_t index);

  /* Makes an instance from validated options (the config is valid as long
   * as the instance). On error, *instance is not destroyed. */
  sluice_error* (*create)(const sluice_config* config, void** instance);
  /* Frees an instance; NULL-safe. */
  void (*destroy)(void* instance);

  /* Optional, for `sluice check --connect`: contacts the outside world,
   * changing nothing, and reports one line per verification with
   * host->probe_line. No instance exists: only the options. A returned
   * error is one FAIL line. */
  sluice_error* (*probe)(const sluice_config* config, sluice_probe* probe);

  /* Sources. source_finite: 1 if the source ends by itself (may be NULL:
   * never). source_run produces until done or until host->stopping(); a
   * retriable error is logged and the run stops like a fatal one. */
  int (*source_finite)(void* instance);
  sluice_error* (*source_run)(void* instance, sluice_emitter* emitter);

  /* Sinks. sink_write writes a batch (read through host->batch_*); the
   * outcome of single records goes to host->record_failed. A returned
   * error fails the whole batch: SLUICE_ERROR_RETRIABLE retries it all
   * with backoff, SLUICE_ERROR_FENCED (sinks with sink_assign) drops it and
   * assigns the partitions again, others stop the sink. sink_flush (may be
   * NULL) makes what was written durable; Kafka offsets are committed only
   * after it returns. */
  sluice_error* (*sink_write)(void* instance, const sluice_batch* batch, sluice_write_result* result);
  sluice_error* (*sink_flush)(void* instance);

  /* Optional, for a sink that stores its own offsets with its records
   * (exactly-once). sink_assign is given partitions newly assigned
   * (partitions[count]) and the offsets Kafka has committed for some of
   * them; for each partition it has stored an offset for, it sets the next
   * offset to read with host->offsets_set. The host seeks there; a
   * partition left out starts from the sink's `start_from` (Kafka's
   * committed offset only if the plugin sets it, read with offsets_get). A
   * retriable error is retried with backoff until the run stops; others
   * stop the sink. It is called again after a write returned
   * SLUICE_ERROR_FENCED. Each sink_write must then store its records and
   * the batch's next offsets (host->batch_partition_at) atomically, so that
   * a crash replays nothing twice. sink_revoke: the partitions are no
   * longer this instance's (rebalance, shutdown); forget what it knows of
   * them. Either may be NULL. With sink_assign, a record a transform
   * dropped or rejected still advances the batch's offsets. */
  sluice_error* (*sink_assign)(void* instance, const char* topic, const int32_t* partitions, size_t count,
                               const sluice_offsets* committed, sluice_offsets* next);
  void (*sink_revoke)(void* instance, const char* topic, const int32_t* partitions, size_t count);

  /* Sinks: 1 when the sink reads headers (host->message_header_*); they
   * cost an allocation per record to collect, so only then are they. */
  int wants_headers;
} sluice_plugin_descriptor;

/* The entry point: `host_abi_version` is host->abi_version. Returns the
 * plugin's descriptor (static: it must outlive the plugin's use), or NULL to
 * refuse this host. */
typedef const sluice_plugin_descriptor* (*sluice_plugin_entry_fn)(uint32_t host_abi_version,
                                                                  const sluice_host_api* host);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_PLUGIN_H */
