/* sluice.h: embedding sluice in a program (libsluice, C API 0).
 *
 * A host program builds a pipeline from a TOML file or string, optionally
 * feeds it records (sources of `type = "host"`) and receives what it stores
 * (sinks of `type = "host"`), starts it, and stops or waits for it:
 *
 *   sluice_error* err = NULL;
 *   sluice_pipeline* p = sluice_pipeline_from_file("job.toml", NULL, &err);
 *   if (!p) { fprintf(stderr, "%s\n", sluice_error_message(err)); sluice_error_free(err); return 2; }
 *   if (sluice_pipeline_start(p, &err) == 0) sluice_pipeline_wait(p, -1, &err);
 *   sluice_pipeline_free(p);
 *
 * CONVENTIONS. Handles are opaque. A function that can fail returns 0 on
 * success or a sluice_error_code, and, when `error` is not NULL, sets
 * *error to an error object the caller frees with sluice_error_free (NULL
 * on success). Strings given to sluice are copied before the call returns;
 * strings sluice returns stay valid as stated beside each function. No
 * function lets a C++ exception out. Structs passed in start with their
 * struct_size, so that they can grow: set it to sizeof (the *_init
 * functions do).
 *
 * THREADS. Every function may be called from any thread; from a callback
 * of a pipeline, only sluice_pipeline_stop, _push, _close_source,
 * _counters and _metrics of it (waiting for it or freeing it there would
 * wait for the callback's own thread). A pipeline runs on threads of its
 * own (one per source and sink, plus Kafka's); the callbacks say on which
 * they run. Timeouts are in milliseconds, capped at a day. Several pipelines may run in one
 * process; the log callback and the masking of secrets in log lines are
 * process-wide.
 *
 * The types shared with plugins (sluice_error, sluice_record, sluice_batch,
 * sluice_message, sluice_write_result) and the error codes are declared in
 * sluice/plugin.h. */
#ifndef SLUICE_H
#define SLUICE_H

#include <stddef.h>
#include <stdint.h>

#include <sluice/plugin.h>
#include <sluice/version.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SLUICE_API __attribute__((visibility("default")))

/* The library's version at run time ("0.1.0"); compare with SLUICE_VERSION_STRING. */
SLUICE_API const char* sluice_version(void);

/* ---- Errors -------------------------------------------------------------- */

/* The code (sluice_error_code), the message (valid while the error lives),
 * and whether trying again later may succeed (retriable, connect, again)
 * or the pipeline cannot go on (fatal, config, usage). NULL-safe: 0, "". */
SLUICE_API int sluice_error_get_code(const sluice_error* error);
SLUICE_API const char* sluice_error_message(const sluice_error* error);
SLUICE_API int sluice_error_retriable(const sluice_error* error);
SLUICE_API int sluice_error_fatal(const sluice_error* error);
/* An error a host sink callback returns (message copied). */
SLUICE_API sluice_error* sluice_error_new(int code, const char* message);
SLUICE_API void sluice_error_free(sluice_error* error);

/* The diagnostics of a configuration error, as `sluice check` prints them
 * (errors and warnings, each at file:line:col; line 0: the whole file).
 * Returns 0 when `index` is past the end. Out-pointers may be NULL; the
 * strings live as long as the error. */
SLUICE_API size_t sluice_error_diagnostic_count(const sluice_error* error);
SLUICE_API int sluice_error_diagnostic(const sluice_error* error, size_t index, int* is_error, const char** file,
                                       int* line, int* column, const char** message);

/* Memory sluice_pipeline_metrics returned. */
SLUICE_API void sluice_free(void* memory);

/* ---- Logging ------------------------------------------------------------- */

typedef enum sluice_log_level {
  SLUICE_LOG_DEBUG = 0,
  SLUICE_LOG_INFO = 1,
  SLUICE_LOG_WARNING = 2,
  SLUICE_LOG_ERROR = 3
} sluice_log_level;

/* Receives every log line of every pipeline in the process, with secrets
 * masked, one call at a time, on the thread that logs it (any of the
 * pipelines' threads): return quickly and do not call into sluice from
 * it. NULL restores the default, lines on stderr. */
typedef void (*sluice_log_fn)(void* user, int level, const char* message);
SLUICE_API void sluice_set_log_callback(sluice_log_fn callback, void* user);
/* Lines below `level` are not made (default SLUICE_LOG_INFO). */
SLUICE_API void sluice_set_log_level(int level);

/* ---- Pipelines ----------------------------------------------------------- */

typedef struct sluice_pipeline sluice_pipeline;

typedef enum sluice_run_only {
  SLUICE_RUN_ALL = 0,     /* sources and sinks */
  SLUICE_RUN_SOURCES = 1, /* only the sources (the sinks run elsewhere) */
  SLUICE_RUN_SINKS = 2    /* only the sinks */
} sluice_run_only;

typedef struct sluice_settings {
  size_t struct_size;      /* sizeof(sluice_settings) */
  /* ':'-separated directories searched for plugin .so files, before
   * $SLUICE_PLUGIN_PATH and the install default; NULL: none. */
  const char* plugin_path;
  int only;                /* sluice_run_only */
  uint64_t exit_after;     /* each sink ends after this many records; 0: no limit */
  int64_t progress_ms;     /* interval of the progress log line; 0: none */
} sluice_settings;

/* Fills in the defaults (run everything, no limit, no progress line). */
SLUICE_API void sluice_settings_init(sluice_settings* settings);

/* Loads and validates a pipeline, as `sluice check` does (the same
 * diagnostics), without starting anything; `settings` may be NULL. On a
 * mistake returns NULL and a SLUICE_ERROR_CONFIG error whose message lists
 * the diagnostics and whose sluice_error_diagnostic gives each. From a
 * string, `origin` names it in the diagnostics and relative paths start in
 * the working directory. The pipeline's secrets are masked in every log
 * line of the process from here on. */
SLUICE_API sluice_pipeline* sluice_pipeline_from_file(const char* path, const sluice_settings* settings,
                                                      sluice_error** error);
SLUICE_API sluice_pipeline* sluice_pipeline_from_string(const char* toml, const char* origin,
                                                        const sluice_settings* settings, sluice_error** error);

/* The pipeline's name, and the warnings its loading gave ("" for none, one
 * "file:line:col: warning: ..." line each). Valid while the pipeline lives. */
SLUICE_API const char* sluice_pipeline_name(const sluice_pipeline* pipeline);
SLUICE_API const char* sluice_pipeline_warnings(const sluice_pipeline* pipeline);

/* A host sink: called with each batch the sink `name` (of `type = "host"`)
 * reads from Kafka, in offset order per partition, on that sink's own
 * thread (one call at a time). Read the records with sluice_batch_count,
 * sluice_batch_message and the sluice_message_* accessors (valid during
 * the call). Return NULL when the batch is stored: its offsets are then
 * committed. A record that cannot be stored is reported with
 * sluice_record_failed (rejected, or "retry from here"); a returned error
 * fails the whole batch (SLUICE_ERROR_RETRIABLE: the same batch again
 * after a backoff; others stop the pipeline). Records may come again after
 * a crash (at least once), never skipped. Set before start. */
typedef sluice_error* (*sluice_sink_fn)(void* user, const sluice_batch* batch, sluice_write_result* result);
SLUICE_API int sluice_pipeline_set_sink(sluice_pipeline* pipeline, const char* name, sluice_sink_fn callback,
                                        void* user, sluice_error** error);

/* Starts the pipeline on threads of its own. Returns once the steps are
 * built and connected (the embedded broker up, the sinks' databases
 * reached), or with the error that kept them from it: SLUICE_ERROR_CONFIG,
 * SLUICE_ERROR_CONNECT (could not reach Kafka, a database...), or
 * SLUICE_ERROR_FATAL. A pipeline starts once. */
SLUICE_API int sluice_pipeline_start(sluice_pipeline* pipeline, sluice_error** error);

/* Gives a record to the source `name` (of `type = "host"`), copied. Blocks
 * up to `timeout_ms` while that source's queue is full (back-pressure from
 * Kafka); 0: never blocks; -1: waits until there is room or the pipeline
 * stops. Returns 0 when queued; SLUICE_ERROR_AGAIN when the queue was
 * still full; SLUICE_ERROR_STOPPED once the pipeline stops or the source
 * was closed; SLUICE_ERROR_USAGE for a name that is not a host source or a
 * pipeline not started. Any thread, several at once. A record queued is
 * produced to Kafka before the source ends, unless the pipeline fails
 * (or is stopped while Kafka takes nothing: the log counts what was lost).
 * Headers (header_count > 0) need header_names, and header_value_lens for
 * the non-NULL values. */
SLUICE_API int sluice_pipeline_push(sluice_pipeline* pipeline, const char* source, const sluice_record* record,
                                    int64_t timeout_ms, sluice_error** error);

/* Ends the host source `name`: what was pushed is produced, then the
 * source is done. When every source of the pipeline is done, its sinks
 * end once they have stored everything produced, and the run ends. */
SLUICE_API int sluice_pipeline_close_source(sluice_pipeline* pipeline, const char* source, sluice_error** error);

/* Asks for a clean stop (sources end, sinks store and commit what they
 * hold) and returns at once. Not from a signal handler. */
SLUICE_API void sluice_pipeline_stop(sluice_pipeline* pipeline);

/* Waits up to `timeout_ms` (-1: without end) for the run to end. Returns 0
 * when it ended cleanly, SLUICE_ERROR_AGAIN when it still runs, or the
 * code of the failure that ended it (the error says what it was). */
SLUICE_API int sluice_pipeline_wait(sluice_pipeline* pipeline, int64_t timeout_ms, sluice_error** error);

typedef enum sluice_pipeline_state {
  SLUICE_PIPELINE_CREATED = 0,
  SLUICE_PIPELINE_RUNNING = 1,
  SLUICE_PIPELINE_STOPPING = 2, /* a stop was asked for, or a failure stops it */
  SLUICE_PIPELINE_ENDED = 3
} sluice_pipeline_state;
SLUICE_API int sluice_pipeline_state_of(const sluice_pipeline* pipeline);

/* Stops the pipeline if it runs, waits for it, and frees it. NULL-safe.
 * No other call on the same pipeline may be under way or come after. */
SLUICE_API void sluice_pipeline_free(sluice_pipeline* pipeline);

/* ---- Counters ------------------------------------------------------------ */

typedef enum sluice_step_state {
  SLUICE_STEP_STARTING = 0,
  SLUICE_STEP_UP = 1,
  SLUICE_STEP_RETRYING = 2,
  SLUICE_STEP_STOPPED = 3,
  SLUICE_STEP_FAILED = 4
} sluice_step_state;

/* One step's counters: the numbers /metrics shows for it. */
typedef struct sluice_step_counters {
  size_t struct_size;    /* sizeof(sluice_step_counters) */
  uint64_t records_in;   /* sources: emitted; sinks: read from Kafka */
  uint64_t records_out;  /* sources: acknowledged by Kafka; sinks: stored */
  uint64_t rejected;     /* rejected by a transform or the sink, with a reason */
  uint64_t dropped;      /* dropped by a transform */
  uint64_t bytes_in, bytes_out;
  int state;             /* sluice_step_state */
} sluice_step_counters;

SLUICE_API void sluice_step_counters_init(sluice_step_counters* counters);

/* The counters of the source or sink `step`, while it runs and after the
 * run ended (the last values). SLUICE_ERROR_USAGE before start or for an
 * unknown step. */
SLUICE_API int sluice_pipeline_counters(const sluice_pipeline* pipeline, const char* step,
                                        sluice_step_counters* counters, sluice_error** error);

/* Every metric of the run in the Prometheus text format, as /metrics
 * serves it; free with sluice_free. NULL before start. */
SLUICE_API char* sluice_pipeline_metrics(const sluice_pipeline* pipeline);

/* ---- Records of a host sink's batch (valid during the callback) ---------- */

SLUICE_API size_t sluice_batch_count(const sluice_batch* batch);
SLUICE_API const sluice_message* sluice_batch_message(const sluice_batch* batch, size_t index);
SLUICE_API const char* sluice_message_topic(const sluice_message* message);
SLUICE_API int32_t sluice_message_partition(const sluice_message* message);
SLUICE_API int64_t sluice_message_offset(const sluice_message* message);
SLUICE_API int64_t sluice_message_timestamp_ms(const sluice_message* message); /* -1: none */
/* By length; a NULL key: none, a NULL value: a tombstone. */
SLUICE_API const char* sluice_message_key(const sluice_message* message, size_t* len);
SLUICE_API const char* sluice_message_value(const sluice_message* message, size_t* len);
/* The record at `index` was not stored (message copied). retriable 0: it
 * is rejected (counted, kept in the rejects with the message) and the
 * others count as stored; 1: the records before it are stored, and the
 * callback is called again, after a backoff, with the batch from it on. */
SLUICE_API void sluice_record_failed(sluice_write_result* result, size_t index, int retriable, const char* message);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_H */
