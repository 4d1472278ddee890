// How a plugin presents itself to the registry: its name, kind, one line of
// help, its option table, and a factory that turns validated options into an
// instance.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

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
  return info;
}

}  // namespace sluice
