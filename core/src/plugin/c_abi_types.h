// The host's definitions of the plugin ABI's opaque types: what a plugin
// holds a pointer to and reads only through the host table's accessors.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "config/diagnostics.h"
#include "sluice/message.h"
#include "sluice/options.h"
#include "sluice/plugin.h"
#include "sluice/sink.h"
#include "sluice/source.h"

struct sluice_error {
  int code;
  std::string message;
  std::vector<sluice::Diagnostic> diagnostics;  // a configuration error's, for sluice_error_diagnostic
};

struct sluice_config {
  sluice::OptionValues values;
  void* host_binding = nullptr;  // a sink of the embedding host: its callback (embed/host_sink.h)
};

struct sluice_emitter {
  sluice::Emitter* emitter;
};

struct sluice_message {
  const sluice::Message* message;
  const char* topic;  // NUL-terminated, the sink's copy
};

struct sluice_batch {
  std::span<const sluice_message> messages;
  std::span<const std::pair<int32_t, int64_t>> next;  // per partition: the offset after the batch
};

// What a plugin reported about single records of one sink_write; indexes
// relative to the batch it was given.
struct sluice_write_result {
  size_t count = 0;  // records in the batch: reports past it are ignored
  std::vector<std::pair<size_t, std::string>> rejected;
  std::optional<std::pair<size_t, std::string>> retry_from;
};

struct sluice_offsets {
  std::map<int32_t, int64_t> offsets;
};

struct sluice_probe {
  int64_t timeout_ms;
  std::vector<std::pair<bool, std::string>> lines;
};

namespace sluice {

// The table given to plugins, as this host's version declares it.
const sluice_host_api* host_api();

// Takes ownership of an error a plugin returned (NULL: none).
using CErrorPtr = std::unique_ptr<sluice_error>;

}  // namespace sluice
