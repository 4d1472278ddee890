// How a plugin presents itself to the registry: its name, kind, one line of
// help, its option table, and a factory that turns validated options into an
// instance.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sluice/metrics.h"
#include "sluice/options.h"
#include "sluice/sink.h"
#include "sluice/source.h"

namespace sluice {

enum class PluginKind { source, sink };

const char* to_string(PluginKind kind);

// What a factory gets beyond its own options.
struct PluginContext {
  std::string pipeline;   // the pipeline's name
  std::string name;       // this source's or sink's name
  std::string topic;
  std::string group;      // sinks: the consumer group
  std::string pipeline_dir;  // the pipeline file's directory: relative paths in options start here
  // Where a built-in plugin registers its own metrics (labels pipeline and
  // step are its to add: {"step", name}); null when nothing is scraped.
  metrics::Registry* metrics = nullptr;
};

// One verification of `sluice check --connect`: whether it passed, and what
// was verified (or what is wrong), in a line that names the thing.
struct ProbeLine {
  bool ok = false;
  std::string text;
};

// What `check --connect` gives a plugin's connect probe beyond its options.
struct ConnectProbe {
  // Bound for each connection attempt and query: an unreachable system
  // must give a FAIL line within seconds, never a hang.
  std::chrono::milliseconds timeout{5000};
  // Sinks: the newest records of the topic, as the sink would receive them,
  // to try its conversions on; empty with `records_note` saying why (Kafka
  // not read, topic empty, records pass transforms first...).
  std::vector<std::string> recent_records;
  // Where each of them is ("topic routes, partition 0, offset 41"), for a
  // message about one; may be shorter than recent_records.
  std::vector<std::string> record_origins;
  std::string records_note;
};

struct PluginInfo {
  std::string name;
  PluginKind kind = PluginKind::source;
  std::string help;
  std::vector<OptionSpec> options;
  std::function<std::unique_ptr<Source>(const OptionValues&, const PluginContext&)> make_source;
  std::function<std::unique_ptr<Sink>(const OptionValues&, const PluginContext&)> make_sink;
  // Optional, for `sluice check`: verifies against the outside world what
  // can be verified without changing it (e.g. that a table and its columns
  // exist). Throws sluice::Error: config for a mistake in the pipeline,
  // retriable when the outside world could not be reached.
  std::function<void(const OptionValues&, const PluginContext&)> probe = nullptr;
  std::string origin = "built-in";  // or the path of the shared object
  // Cross-field checks of the plugin's options (Options::check), run by core
  // at load, so `check` and `run` refuse the same. C plugins have none.
  std::vector<OptionTableCheck> checks = {};
  // Optional, for `sluice check --connect`: contacts the system and returns
  // one line per verification, changing nothing (read-only queries, catalog
  // and privilege lookups). May throw sluice::Error; that is one FAIL line.
  // Plugins without it fall back to `probe`. C plugins have neither.
  std::function<std::vector<ProbeLine>(const OptionValues&, const PluginContext&, const ConnectProbe&)>
      probe_connect = nullptr;
};

// Declares a plugin whose Impl is constructed from its bound Config:
// `Impl(const Config&, const PluginContext&)`.
template <class Impl, class Config>
PluginInfo source_plugin(std::string name, std::string help, const Options<Config>& options) {
  PluginInfo info{std::move(name), PluginKind::source, std::move(help), options.specs(), {}, {}};
  info.checks = options.checks();
  info.make_source = [options](const OptionValues& values, const PluginContext& ctx) {
    return std::unique_ptr<Source>(std::make_unique<Impl>(options.bind(values), ctx));
  };
  return info;
}

template <class Impl, class Config>
PluginInfo sink_plugin(std::string name, std::string help, const Options<Config>& options) {
  PluginInfo info{std::move(name), PluginKind::sink, std::move(help), options.specs(), {}, {}};
  info.checks = options.checks();
  info.make_sink = [options](const OptionValues& values, const PluginContext& ctx) {
    return std::unique_ptr<Sink>(std::make_unique<Impl>(options.bind(values), ctx));
  };
  if constexpr (requires(const Config& c, const PluginContext& ctx) { Impl::probe(c, ctx); })
    info.probe = [options](const OptionValues& values, const PluginContext& ctx) { Impl::probe(options.bind(values), ctx); };
  if constexpr (requires(const Config& c, const PluginContext& ctx, const ConnectProbe& p) {
                  Impl::probe_connect(c, ctx, p);
                })
    info.probe_connect = [options](const OptionValues& values, const PluginContext& ctx, const ConnectProbe& p) {
      return Impl::probe_connect(options.bind(values), ctx, p);
    };
  return info;
}

}  // namespace sluice
