#include "plugin/c_abi_adapter.h"

#include <cstring>
#include <stdexcept>

#include "plugin/c_sink.h"

namespace sluice {

namespace {

class CSource : public Source, CInstance {
 public:
  using CInstance::CInstance;
  void run(Emitter& emitter) override {
    sluice_emitter e{&emitter};
    raise_c_error(d_.source_run(self_, &e), name_);
  }
  bool finite() const override { return d_.source_finite && d_.source_finite(self_); }
};

// The plugin's option `index`, copied into a zeroed struct of this host's
// size: only the bytes inside the plugin's struct_size are read.
sluice_option_decl option_decl(const sluice_plugin_descriptor& d, size_t index) {
  const sluice_option_decl* theirs = d.option_at ? d.option_at(index) : nullptr;
  if (!theirs) throw std::runtime_error("option_at(" + std::to_string(index) + ") returned NULL");
  constexpr size_t kMin = offsetof(sluice_option_decl, secret) + sizeof(theirs->secret);
  if (theirs->struct_size < kMin)
    throw std::runtime_error("option " + std::to_string(index) + " is " + std::to_string(theirs->struct_size) +
                             " bytes, ABI 2.0 needs at least " + std::to_string(kMin));
  sluice_option_decl decl{};
  std::memcpy(&decl, theirs, std::min(theirs->struct_size, sizeof decl));
  return decl;
}

OptionSpec adapt_option(const sluice_option_decl& decl) {
  if (!decl.name || !*decl.name) throw std::runtime_error("an option has no name");
  OptionSpec spec;
  spec.name = decl.name;
  spec.help = decl.help ? decl.help : "";
  spec.required = decl.required != 0;
  spec.secret = decl.secret != 0;
  std::string def = decl.default_value ? decl.default_value : "";
  auto bad_default = [&] {
    return std::runtime_error("option `" + spec.name + "` has a malformed default `" + def + "`");
  };
  switch (decl.type) {
    case SLUICE_OPTION_BOOL:
      spec.type = OptionType::boolean;
      if (decl.default_value) {
        if (def != "true" && def != "false") throw bad_default();
        spec.default_value = def == "true";
      }
      break;
    case SLUICE_OPTION_INT:
      spec.type = OptionType::integer;
      if (decl.default_value) try { spec.default_value = int64_t(std::stoll(def)); } catch (...) { throw bad_default(); }
      break;
    case SLUICE_OPTION_NUMBER:
      spec.type = OptionType::number;
      if (decl.default_value) try { spec.default_value = std::stod(def); } catch (...) { throw bad_default(); }
      break;
    case SLUICE_OPTION_STRING:
      spec.type = OptionType::string;
      if (decl.default_value) spec.default_value = def;
      break;
    case SLUICE_OPTION_DURATION:
      spec.type = OptionType::duration;
      if (decl.default_value) {
        auto d = parse_duration(def);
        if (!d) throw bad_default();
        spec.default_value = *d;
      }
      break;
    default:
      throw std::runtime_error("option `" + spec.name + "` has unknown type " + std::to_string(decl.type));
  }
  return spec;
}

// One `sluice check --connect` probe: the plugin's lines, or its error as
// one FAIL line.
std::vector<ProbeLine> probe_c_plugin(const CPlugin& plugin, const OptionValues& values, const ConnectProbe& p) {
  sluice_config config{values, nullptr};
  sluice_probe probe{p.timeout.count(), {}};
  sluice_error* raw = plugin.d.probe(&config, &probe);
  std::vector<ProbeLine> lines;
  for (auto& [ok, text] : probe.lines) lines.push_back({ok, std::move(text)});
  if (raw) {
    CErrorPtr err(raw);
    lines.push_back({false, err->message});
  } else if (lines.empty()) {
    lines.push_back({true, std::string(plugin.d.name) + ": probed"});
  }
  return lines;
}

}  // namespace

PluginInfo adapt_c_plugin(const sluice_plugin_descriptor& d, const std::string& origin,
                          std::shared_ptr<void> library) {
  if (!d.name || !*d.name) throw std::runtime_error("the descriptor has no name");
  if (!d.create || !d.destroy) throw std::runtime_error("the descriptor lacks create or destroy");
  auto plugin = std::make_shared<CPlugin>(CPlugin{d, std::move(library)});
  PluginInfo info;
  info.name = d.name;
  info.help = d.help ? d.help : "";
  info.origin = origin;
  for (size_t i = 0; i < d.option_count; ++i) info.options.push_back(adapt_option(option_decl(d, i)));
  if (d.kind == SLUICE_PLUGIN_SOURCE) {
    if (!d.source_run) throw std::runtime_error("source plugin lacks source_run");
    info.kind = PluginKind::source;
    info.make_source = [plugin](const OptionValues& values, const PluginContext& ctx) {
      return std::unique_ptr<Source>(std::make_unique<CSource>(plugin, values, ctx.name));
    };
  } else if (d.kind == SLUICE_PLUGIN_SINK) {
    if (!d.sink_write) throw std::runtime_error("sink plugin lacks sink_write");
    info.kind = PluginKind::sink;
    info.make_sink = [plugin](const OptionValues& values, const PluginContext& ctx) {
      return std::unique_ptr<Sink>(std::make_unique<CSink>(plugin, values, ctx.name));
    };
  } else {
    throw std::runtime_error("unknown plugin kind " + std::to_string(d.kind));
  }
  if (d.probe)
    info.probe_connect = [plugin](const OptionValues& values, const PluginContext&, const ConnectProbe& p) {
      return probe_c_plugin(*plugin, values, p);
    };
  return info;
}

}  // namespace sluice
