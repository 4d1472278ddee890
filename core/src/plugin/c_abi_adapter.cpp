#include "plugin/c_abi_adapter.h"

#include <cstring>
#include <map>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "sluice/error.h"

struct sluice_config {
  sluice::OptionValues values;
};

struct sluice_emitter {
  sluice::Emitter* emitter;
};

namespace sluice {

namespace {

using ErrorPtr = std::unique_ptr<sluice_error>;

sluice_error* error_new(int code, const char* message) {
  return std::make_unique<sluice_error>(sluice_error{code, message ? message : ""}).release();
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

sluice_error* emit(sluice_emitter* e, const char* value, size_t value_len, const char* key,
                   size_t key_len) {
  try {
    std::optional<std::string_view> k;
    if (key) k = std::string_view(key, key_len);
    e->emitter->emit(std::string_view(value, value_len), k);
    return nullptr;
  } catch (const Error& err) {
    return error_new(err.retriable() ? SLUICE_ERROR_RETRIABLE : SLUICE_ERROR_FATAL, err.what());
  } catch (const std::exception& err) {
    return error_new(SLUICE_ERROR_FATAL, err.what());
  }
}

int stopping(sluice_emitter* e) { return e->emitter->stopping() ? 1 : 0; }

void log(int level, const char* message) {
  static const spdlog::level::level_enum levels[] = {spdlog::level::debug, spdlog::level::info,
                                                     spdlog::level::warn, spdlog::level::err};
  spdlog::log(levels[std::clamp(level, 0, 3)], "{}", message ? message : "");
}

const sluice_host_api kHostApi = {SLUICE_ABI_VERSION, sizeof(sluice_host_api), error_new,
                                  config_string, config_int, config_number, config_bool,
                                  config_duration_ms, emit, stopping, log};

// Turns a plugin's returned error into an exception, freeing it.
void raise(sluice_error* raw, const std::string& what) {
  if (!raw) return;
  ErrorPtr err(raw);
  throw Error(err->code == SLUICE_ERROR_RETRIABLE ? ErrorClass::retriable : ErrorClass::fatal,
              what + ": " + err->message);
}

// One plugin instance with its config; destroyed through the descriptor.
class Instance {
 public:
  Instance(const sluice_plugin_descriptor& d, std::shared_ptr<void> library, OptionValues values,
           const std::string& name)
      : d_(d), library_(std::move(library)), config_{std::move(values)}, name_(name) {
    raise(d_.create(&config_, &self_), name_);
  }
  ~Instance() { d_.destroy(self_); }
  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;

 protected:
  const sluice_plugin_descriptor& d_;
  std::shared_ptr<void> library_;  // keeps the code mapped while the instance lives
  sluice_config config_;
  std::string name_;
  void* self_ = nullptr;
};

class CSource : public Source, Instance {
 public:
  using Instance::Instance;
  void run(Emitter& emitter) override {
    sluice_emitter e{&emitter};
    raise(d_.source_run(self_, &e), name_);
  }
  bool finite() const override { return d_.source_finite && d_.source_finite(self_); }
};

class CSink : public Sink, Instance {
 public:
  using Instance::Instance;
  void write(std::span<const Message> batch) override {
    messages_.clear();
    topics_.clear();
    for (const Message& m : batch) {
      if (topics_.empty() || topics_.back() != m.topic) topics_.emplace_back(m.topic);
      messages_.push_back({sizeof(sluice_message), topics_.back().c_str(), m.partition, m.offset,
                           m.has_key ? m.key.data() : nullptr, m.key.size(), m.value.data(),
                           m.value.size(), m.timestamp_ms});
    }
    raise(d_.sink_write(self_, messages_.data(), messages_.size()), name_);
  }
  void flush() override {
    if (d_.sink_flush) raise(d_.sink_flush(self_), name_);
  }

 private:
  std::vector<sluice_message> messages_;
  std::vector<std::string> topics_;  // NUL-terminated copies for the C side
};

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

}  // namespace

const sluice_host_api* host_api() { return &kHostApi; }

PluginInfo adapt_c_plugin(const sluice_plugin_descriptor& d, const std::string& origin,
                          std::shared_ptr<void> library) {
  if (!d.name || !*d.name) throw std::runtime_error("the descriptor has no name");
  if (!d.create || !d.destroy) throw std::runtime_error("the descriptor lacks create or destroy");
  PluginInfo info;
  info.name = d.name;
  info.help = d.help ? d.help : "";
  info.origin = origin;
  for (size_t i = 0; i < d.option_count; ++i) info.options.push_back(adapt_option(d.options[i]));
  if (d.kind == SLUICE_PLUGIN_SOURCE) {
    if (!d.source_run) throw std::runtime_error("source plugin lacks source_run");
    info.kind = PluginKind::source;
    info.make_source = [&d, library](const OptionValues& values, const PluginContext& ctx) {
      return std::unique_ptr<Source>(std::make_unique<CSource>(d, library, values, ctx.name));
    };
  } else if (d.kind == SLUICE_PLUGIN_SINK) {
    if (!d.sink_write) throw std::runtime_error("sink plugin lacks sink_write");
    info.kind = PluginKind::sink;
    info.make_sink = [&d, library](const OptionValues& values, const PluginContext& ctx) {
      return std::unique_ptr<Sink>(std::make_unique<CSink>(d, library, values, ctx.name));
    };
  } else {
    throw std::runtime_error("unknown plugin kind " + std::to_string(d.kind));
  }
  return info;
}

}  // namespace sluice
