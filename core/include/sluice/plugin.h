/* The C ABI of sluice plugins built as shared objects.
 *
 * A plugin exports one function, SLUICE_PLUGIN_ENTRY_NAME, of type
 * sluice_plugin_entry_fn. The host calls it with its ABI version and a table
 * of host functions, and the plugin returns a static descriptor that begins
 * with {abi_version, struct_size}. The host refuses a plugin whose version
 * differs from its own, naming both. A plugin never links libsluice: all it
 * needs from the host comes through sluice_host_api. Tables only grow: new
 * members go at the end, and struct_size tells which ones a side has.
 *
 * Ownership: strings the host passes are valid for the duration of the call.
 * An error returned by a plugin function is made with host->error_new and is
 * owned (and freed) by the host. No C++ exception may cross this boundary. */
#ifndef SLUICE_PLUGIN_H
#define SLUICE_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SLUICE_ABI_VERSION 1
#define SLUICE_PLUGIN_ENTRY_NAME "sluice_plugin_entry"

typedef struct sluice_error sluice_error;     /* opaque, made by the host */
typedef struct sluice_config sluice_config;   /* opaque: a plugin's validated options */
typedef struct sluice_emitter sluice_emitter; /* opaque: where a source puts records */

typedef enum sluice_error_code {
  SLUICE_ERROR_RETRIABLE = 1, /* try again later (connection lost, timeout) */
  SLUICE_ERROR_FATAL = 2      /* stop the pipeline */
} sluice_error_code;

typedef enum sluice_plugin_kind { SLUICE_PLUGIN_SOURCE = 1, SLUICE_PLUGIN_SINK = 2 } sluice_plugin_kind;

typedef enum sluice_option_type {
  SLUICE_OPTION_BOOL = 1,
  SLUICE_OPTION_INT = 2,
  SLUICE_OPTION_NUMBER = 3,
  SLUICE_OPTION_STRING = 4,
  SLUICE_OPTION_DURATION = 5
} sluice_option_type;

typedef struct sluice_option_decl {
  const char* name;
  int type;                  /* sluice_option_type */
  const char* default_value; /* as written in TOML without quotes ("100ms", "10", "true"); NULL: none */
  const char* help;
  int required;
  int secret;
} sluice_option_decl;

typedef struct sluice_message {
  size_t struct_size;
  const char* topic;
  int32_t partition;
  int64_t offset;
  const char* key; /* NULL: no key */
  size_t key_len;
  const char* value;
  size_t value_len;
  int64_t timestamp_ms;
} sluice_message;

typedef struct sluice_host_api {
  uint32_t abi_version;
  uint32_t struct_size;
  /* Makes an error to return from a plugin function; the host frees it. */
  sluice_error* (*error_new)(int code, const char* message);
  /* Option getters: 1 when the option has a value (set or default), else 0.
   * A string stays valid until the instance is destroyed. */
  int (*config_string)(const sluice_config* config, const char* name, const char** value);
  int (*config_int)(const sluice_config* config, const char* name, int64_t* value);
  int (*config_number)(const sluice_config* config, const char* name, double* value);
  int (*config_bool)(const sluice_config* config, const char* name, int* value);
  int (*config_duration_ms)(const sluice_config* config, const char* name, int64_t* value);
  /* Sources: emits one record (copied); key may be NULL. Blocks while the
   * producer is full. A non-NULL error means stop producing and return it. */
  sluice_error* (*emit)(sluice_emitter* emitter, const char* value, size_t value_len,
                        const char* key, size_t key_len);
  /* Sources: 1 once the pipeline is shutting down. */
  int (*stopping)(sluice_emitter* emitter);
  /* level: 0 debug, 1 info, 2 warning, 3 error. */
  void (*log)(int level, const char* message);
} sluice_host_api;

typedef struct sluice_plugin_descriptor {
  uint32_t abi_version; /* SLUICE_ABI_VERSION the plugin was built with */
  uint32_t struct_size; /* sizeof(sluice_plugin_descriptor) in the plugin's build */
  const char* name;
  int kind; /* sluice_plugin_kind */
  const char* help;
  const sluice_option_decl* options;
  size_t option_count;
  /* Makes an instance from validated options. */
  sluice_error* (*create)(const sluice_config* config, void** instance);
  /* NULL-safe. */
  void (*destroy)(void* instance);
  /* Sources: 1 if the source ends by itself. */
  int (*source_finite)(void* instance);
  /* Sources: produces until done or until host->stopping(). */
  sluice_error* (*source_run)(void* instance, sluice_emitter* emitter);
  /* Sinks: writes a batch; messages are valid for the call only. */
  sluice_error* (*sink_write)(void* instance, const sluice_message* messages, size_t count);
  /* Sinks: makes what was written durable (may be NULL). */
  sluice_error* (*sink_flush)(void* instance);
} sluice_plugin_descriptor;

typedef const sluice_plugin_descriptor* (*sluice_plugin_entry_fn)(uint32_t host_abi_version,
                                                                  const sluice_host_api* host);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_PLUGIN_H */
