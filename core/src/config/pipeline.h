// A pipeline file, loaded and validated: everything a run needs, with every
// problem reported at once rather than one per attempt.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "config/diagnostics.h"
#include "config/redaction.h"
#include "sluice/options.h"
#include "sluice/plugin_info.h"

namespace sluice {

class PluginRegistry;

struct KafkaSettings {
  std::string bootstrap_servers;
  std::string security_protocol;
  std::optional<std::string> ssl_ca, ssl_cert, ssl_key, ssl_key_password;
  std::optional<std::string> sasl_mechanism, sasl_username, sasl_password;
  std::string compression;
  std::string client_id;
  StringMap librdkafka;

  bool embedded() const { return bootstrap_servers == "embedded"; }
};

const Options<KafkaSettings>& kafka_options();

// The [http] table: where /metrics, /health, /ready and the status page are served.
struct HttpSettings {
  std::string listen;         // "host:port"; "" turns the server off (default: the option table)
  bool enabled = true;
  bool allow_remote = false;  // a non-loopback `listen` needs it
  // Derived at load: `listen` split, and whether the file set it (a port in
  // use is then an error; with the default, sluice takes the next free one).
  std::string host;
  int port = 0;
  bool listen_explicit = false;

  bool on() const { return enabled && !listen.empty(); }
};
const Options<HttpSettings>& http_options();
// Splits "host:port" / "[v6]:port"; returns the problem, or "" when valid.
std::string split_listen_address(const std::string& listen, std::string& host, int& port);
bool is_loopback_host(const std::string& host);

// Options every source has, beside its plugin's own.
struct SourceCommon {
  std::string name, type, topic;
  std::optional<std::string> key;
  int64_t partitions = 0;  // defaults: the option table
  std::vector<std::string> transforms;
  std::optional<std::string> dead_letter_topic;
  int64_t transform_instructions = 0;  // defaults: the option table
  int64_t transform_memory = 0;        // bytes
};
const Options<SourceCommon>& source_common_options();

// Options every sink has, beside its plugin's own.
struct SinkCommon {
  std::string name, type, topic;
  std::optional<std::string> group;
  std::string start_from;
  std::string on_expired;
  // Defaults: the option table (sink_common_options) fills every one.
  int64_t batch_max_rows = 0;
  int64_t batch_max_bytes = 0;
  Milliseconds batch_max_wait{0};
  std::vector<std::string> transforms;
  int64_t transform_instructions = 0;  // defaults: the option table
  int64_t transform_memory = 0;        // bytes
};

// The Lua transforms of a source or sink, resolved and compiled once at load.
struct TransformSettings {
  std::vector<std::string> scripts;  // paths, relative ones resolved against the pipeline file
  int64_t instructions = 10'000'000;
  size_t memory_bytes = 64u << 20;
  std::string dead_letter_topic;     // sources only; empty: rejects are logged and counted
};
const Options<SinkCommon>& sink_common_options();

struct StepConfig {
  PluginKind kind = PluginKind::source;
  const PluginInfo* plugin = nullptr;
  std::string name;
  std::string topic;
  SourcePos pos;
  OptionValues values;     // common and plugin options together, defaults filled in
  // The common options bound from the same table (the one of this step's kind;
  // the other stays default): read these, not `values` by name.
  SourceCommon source_common;
  SinkCommon sink_common;
  TransformSettings transforms;
};

struct PipelineConfig {
  std::string file;
  std::string name;
  KafkaSettings kafka;
  OptionValues kafka_values;  // the same, as validated values (for printing)
  HttpSettings http;
  OptionValues http_values;
  std::vector<StepConfig> sources, sinks;
  std::set<std::string> secret_values;  // expanded secrets, masked wherever text is printed
  std::set<std::string> secret_spans;   // see Secrets::spans: no quoted fragment of these is printed
};

// The consumer group of a sink: its `group` option, else sluice.<pipeline>.<sink>.
std::string consumer_group(const PipelineConfig& pipeline, const StepConfig& sink);
// The directory of the pipeline file ("" for the current one): relative
// paths in a pipeline are taken from there, wherever sluice is run from.
std::string pipeline_dir(const PipelineConfig& pipeline);

// Parses and validates; problems go to `diagnostics` (check has_errors()).
PipelineConfig load_pipeline(const std::string& path, const PluginRegistry& registry,
                             Diagnostics& diagnostics);

// The same, from TOML text (embedding, tests); `origin` names it in errors.
PipelineConfig load_pipeline_text(const std::string& text, const std::string& origin,
                                  const PluginRegistry& registry, Diagnostics& diagnostics);

// Everything of the pipeline that must never be printed (see redaction.h).
Secrets secrets_of(const PipelineConfig& pipeline);

}  // namespace sluice
