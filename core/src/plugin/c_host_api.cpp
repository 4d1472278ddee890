// The functions of the host table: thin accessors over the host's objects.
// None lets an exception out: a plugin is C.
#include <algorithm>
#include <cstring>

#include <spdlog/spdlog.h>

#include "plugin/c_abi_types.h"
#include "sluice/error.h"

namespace sluice {

namespace {

sluice_error* error_new(int code, const char* message) {
  try {
    return std::make_unique<sluice_error>(sluice_error{code, message ? message : "", {}}).release();
  } catch (...) {
    return nullptr;  // out of memory: the caller's error is lost, not the process
  }
}

void error_free(sluice_error* error) { CErrorPtr owned(error); }

void log(int level, const char* message) {
  static const spdlog::level::level_enum levels[] = {spdlog::level::debug, spdlog::level::info,
                                                     spdlog::level::warn, spdlog::level::err};
  try {
    spdlog::log(levels[std::clamp(level, 0, 3)], "{}", message ? message : "");
  } catch (...) {
  }
}

template <class T>
const T* option(const sluice_config* config, const char* name) {
  if (!config || !name) return nullptr;
  auto it = config->values.find(name);
  return it == config->values.end() ? nullptr : std::get_if<T>(&it->second);
}

int config_string(const sluice_config* c, const char* name, const char** out) {
  const auto* v = option<std::string>(c, name);
  return v ? (*out = v->c_str(), 1) : 0;
}
int config_int(const sluice_config* c, const char* name, int64_t* out) {
  const auto* v = option<int64_t>(c, name);
  return v ? (*out = *v, 1) : 0;
}
int config_number(const sluice_config* c, const char* name, double* out) {
  if (const auto* v = option<double>(c, name)) return *out = *v, 1;
  if (const auto* v = option<int64_t>(c, name)) return *out = static_cast<double>(*v), 1;
  return 0;
}
int config_bool(const sluice_config* c, const char* name, int* out) {
  const auto* v = option<bool>(c, name);
  return v ? (*out = *v ? 1 : 0, 1) : 0;
}
int config_duration_ms(const sluice_config* c, const char* name, int64_t* out) {
  const auto* v = option<Milliseconds>(c, name);
  return v ? (*out = v->count(), 1) : 0;
}

sluice_error* emit(sluice_emitter* e, const sluice_record* r) {
  try {
    if (!r || r->struct_size < offsetof(sluice_record, key_len) + sizeof(r->key_len))
      return error_new(SLUICE_ERROR_FATAL, "emit: the record is NULL or shorter than sluice_record of ABI 2.0");
    std::optional<std::string_view> key;
    if (r->key) key = std::string_view(r->key, r->key_len);
    std::string_view value(r->value ? r->value : "", r->value ? r->value_len : 0);
    if (!SLUICE_HAS_MEMBER(r, sluice_record, header_value_lens) || r->header_count == 0) {
      e->emitter->emit(value, key);
      return nullptr;
    }
    if (!r->header_names || !r->header_values || !r->header_value_lens)
      return error_new(SLUICE_ERROR_FATAL, "emit: header_count is set but a header array is NULL");
    thread_local std::vector<std::pair<std::string_view, std::string_view>> headers;
    headers.clear();
    for (size_t i = 0; i < r->header_count; ++i) {
      const char* name = r->header_names[i];
      const char* text = r->header_values[i];
      headers.emplace_back(name ? name : "", text ? std::string_view(text, r->header_value_lens[i]) : std::string_view());
    }
    e->emitter->emit_with_headers(value, key, headers);
    return nullptr;
  } catch (const Error& err) {
    return error_new(err.retriable() ? SLUICE_ERROR_RETRIABLE : SLUICE_ERROR_FATAL, err.what());
  } catch (const std::exception& err) {
    return error_new(SLUICE_ERROR_FATAL, err.what());
  }
}

int stopping(sluice_emitter* e) { return e->emitter->stopping() ? 1 : 0; }

int wait_ms(sluice_emitter* e, int64_t ms) {
  try {
    return e->emitter->wait_for(static_cast<double>(ms) / 1000.0) ? 1 : 0;
  } catch (...) {
    return 0;
  }
}

size_t batch_count(const sluice_batch* b) { return b->messages.size(); }
const sluice_message* batch_message(const sluice_batch* b, size_t i) {
  return i < b->messages.size() ? &b->messages[i] : nullptr;
}
size_t batch_partition_count(const sluice_batch* b) { return b->next.size(); }
void batch_partition_at(const sluice_batch* b, size_t i, int32_t* partition, int64_t* next) {
  if (i >= b->next.size()) return;
  if (partition) *partition = b->next[i].first;
  if (next) *next = b->next[i].second;
}

const char* message_topic(const sluice_message* m) { return m->topic; }
int32_t message_partition(const sluice_message* m) { return m->message->partition; }
int64_t message_offset(const sluice_message* m) { return m->message->offset; }
int64_t message_timestamp_ms(const sluice_message* m) { return m->message->timestamp_ms; }
const char* message_key(const sluice_message* m, size_t* len) {
  if (len) *len = m->message->has_key ? m->message->key.size() : 0;
  return m->message->has_key ? (m->message->key.data() ? m->message->key.data() : "") : nullptr;
}
const char* message_value(const sluice_message* m, size_t* len) {
  if (len) *len = m->message->value.size();
  return m->message->value.data();
}
size_t message_header_count(const sluice_message* m) { return m->message->headers.size(); }
int message_header_at(const sluice_message* m, size_t i, const char** name, size_t* name_len, const char** value,
                      size_t* value_len) {
  if (i >= m->message->headers.size()) return 0;
  const auto& [n, v] = m->message->headers[i];
  if (name) *name = n.data() ? n.data() : "";
  if (name_len) *name_len = n.size();
  if (value) *value = v.data();
  if (value_len) *value_len = v.size();
  return 1;
}

void record_failed(sluice_write_result* r, size_t index, int retriable, const char* message) {
  try {
    if (index >= r->count || r->retry_from) return;
    std::string text = message ? message : "";
    if (retriable) r->retry_from.emplace(index, std::move(text));
    else r->rejected.emplace_back(index, std::move(text));
  } catch (...) {
  }
}

int offsets_get(const sluice_offsets* o, int32_t partition, int64_t* offset) {
  auto it = o->offsets.find(partition);
  if (it == o->offsets.end()) return 0;
  if (offset) *offset = it->second;
  return 1;
}
void offsets_set(sluice_offsets* o, int32_t partition, int64_t offset) {
  try {
    o->offsets[partition] = offset;
  } catch (...) {
  }
}

void probe_line(sluice_probe* p, int ok, const char* text) {
  try {
    p->lines.emplace_back(ok != 0, text ? text : "");
  } catch (...) {
  }
}
int64_t probe_timeout_ms(const sluice_probe* p) { return p->timeout_ms; }

const sluice_host_api kHostApi = {
    SLUICE_ABI_VERSION, sizeof(sluice_host_api),
    error_new, error_free, log,
    config_string, config_int, config_number, config_bool, config_duration_ms,
    emit, stopping, wait_ms,
    batch_count, batch_message, batch_partition_count, batch_partition_at,
    message_topic, message_partition, message_offset, message_timestamp_ms, message_key, message_value,
    message_header_count, message_header_at,
    record_failed,
    offsets_get, offsets_set,
    probe_line, probe_timeout_ms};

}  // namespace

const sluice_host_api* host_api() { return &kHostApi; }

}  // namespace sluice
