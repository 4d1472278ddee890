// sluice.h: loading, starting, feeding, stopping and waiting for a pipeline.
#include <cstring>

#include <spdlog/spdlog.h>

#include "config/diagnostics.h"
#include "config/redaction.h"
#include "embed/c_api_support.h"
#include "embed/log_switch.h"
#include "embed/pipeline_handle.h"
#include "observe/json_log.h"
#include "observe/telemetry.h"

namespace sluice::embed {

namespace {

using Phase = sluice_pipeline::Phase;

sluice_settings settings_or_default(const sluice_settings* given) {
  sluice_settings s;
  sluice_settings_init(&s);
  if (given) std::memcpy(&s, given, std::min(given->struct_size, sizeof s));
  s.struct_size = sizeof s;
  return s;
}

// The registry of one pipeline: what `sluice run` would know, plus the
// host's own source and sink types, bound to this pipeline.
void fill_registry(sluice_pipeline& p, const sluice_settings& s) {
  register_builtin_plugins(p.registry);
  load_plugin_directories(p.registry, plugin_search_path(s.plugin_path ? s.plugin_path : ""));
  p.registry.add(host_source_plugin([&p](const std::string& step) { return p.host_sources.at(step); }));
  p.registry.add(host_sink_plugin([&p](const std::string& step) {
    auto it = p.host_sinks.find(step);
    if (it == p.host_sinks.end() || !it->second.callback)
      throw Error(errc::config, "sink `" + step + "` is of type `host`, and the program running the pipeline set no "
                                "callback for it (sluice_pipeline_set_sink)");
    return &it->second;
  }));
}

// Diagnostics as the error object gives them: secrets masked, each line's
// key and hint with its message.
std::vector<Diagnostic> masked(const Diagnostics& diagnostics, const Secrets& secrets) {
  std::vector<Diagnostic> out;
  for (Diagnostic d : diagnostics.items()) {
    std::string text = d.key.empty() ? d.message : d.key + ": " + d.message;
    if (!d.hint.empty()) text += " (" + d.hint + ")";
    d.message = redact(std::move(text), secrets);
    out.push_back(std::move(d));
  }
  return out;
}

template <class Load>
sluice_pipeline* create(const sluice_settings* given, sluice_error** error, Load&& load) noexcept {
  sluice_pipeline* result = nullptr;
  guarded(error, [&] {
    ensure_logger();
    sluice_settings s = settings_or_default(given);
    auto p = std::make_unique<sluice_pipeline>();
    fill_registry(*p, s);
    Diagnostics diagnostics;
    p->config = load(p->registry, diagnostics);
    Secrets secrets = secrets_of(p->config);
    add_process_secrets(secrets);  // from here on every log line masks them
    std::string problems;
    for (const auto& e : p->registry.load_errors()) problems += "error: " + e + "\n";
    problems += diagnostics.format();
    problems = redact(std::move(problems), secrets);
    if (diagnostics.has_errors() || !p->registry.load_errors().empty())
      return fail(error, SLUICE_ERROR_CONFIG, std::move(problems), masked(diagnostics, secrets));
    p->warnings = std::move(problems);
    for (const auto& step : p->config.sources)
      if (step.plugin->name == "host" && step.plugin->origin == "built-in")
        p->host_sources.emplace(step.name, std::make_shared<HostQueue>(static_cast<size_t>(
                                               std::get<int64_t>(step.values.at(kQueueRecordsOption)))));
    p->options.only = s.only == SLUICE_RUN_SOURCES ? RunOptions::Only::sources
                      : s.only == SLUICE_RUN_SINKS ? RunOptions::Only::sinks
                                                   : RunOptions::Only::all;
    p->options.exit_after = s.exit_after;
    p->options.progress_every = std::chrono::milliseconds(std::max<int64_t>(s.progress_ms, 0));
    result = p.release();
    return 0;
  });
  return result;
}

void close_host_sources(sluice_pipeline& p) {
  for (auto& [name, queue] : p.host_sources) queue->close();
}

// The run, on the pipeline's own thread.
void run(sluice_pipeline* p) {
  p->options.failure = &p->failure;
  p->options.started = [p](Telemetry& telemetry) {
    std::lock_guard lock(p->mutex);
    p->telemetry = &telemetry;
    p->phase = Phase::running;
    p->changed.notify_all();
  };
  p->options.ending = [p](Telemetry& telemetry) {
    try {
      auto counters = all_counters(telemetry);
      std::string metrics = telemetry.registry().render();
      std::lock_guard lock(p->mutex);
      p->final_counters = std::move(counters);
      p->final_metrics = std::move(metrics);
      p->telemetry = nullptr;
    } catch (...) {
      std::lock_guard lock(p->mutex);
      p->telemetry = nullptr;
    }
  };
  int code = kExitRuntime;
  try {
    code = run_pipeline(p->config, p->options, p->stop);
  } catch (const std::exception& e) {
    p->failure.message = e.what();
  } catch (...) {
    p->failure.message = "the run ended with an exception of unknown type";
  }
  close_host_sources(*p);  // a push waiting for room returns
  std::lock_guard lock(p->mutex);
  p->exit_code = code;
  if (code != kExitOk && p->failure.message.empty()) p->failure.message = "the run failed (see the log)";
  // What the host is handed must not hold a secret any more than the log.
  p->failure.message = redact(std::move(p->failure.message), secrets_of(p->config));
  p->phase = Phase::ended;
  p->changed.notify_all();
}

// A host's timeout: negative waits without end; the rest is capped (a day)
// so that no deadline overflows the clock.
std::chrono::milliseconds timeout_of(int64_t ms) {
  return std::chrono::milliseconds(ms < 0 ? -1 : std::min<int64_t>(ms, 86'400'000));
}

// The code and message of a run that failed.
int failure_code(const RunFailure& f, int exit_code) {
  if (exit_code == kExitConfig || f.error_class == ErrorClass::config) return SLUICE_ERROR_CONFIG;
  if (f.at_start && f.error_class == ErrorClass::retriable) return SLUICE_ERROR_CONNECT;
  return code_of(f.error_class);
}

}  // namespace

}  // namespace sluice::embed

using sluice::embed::fail;
using sluice::embed::guarded;
using Phase = sluice_pipeline::Phase;

extern "C" {

void sluice_settings_init(sluice_settings* s) {
  if (!s) return;
  std::memset(s, 0, sizeof *s);
  s->struct_size = sizeof *s;
  s->only = SLUICE_RUN_ALL;
}

sluice_pipeline* sluice_pipeline_from_file(const char* path, const sluice_settings* settings, sluice_error** error) {
  if (!path) return fail(error, SLUICE_ERROR_USAGE, "sluice_pipeline_from_file: path is NULL"), nullptr;
  return sluice::embed::create(settings, error, [path](const sluice::PluginRegistry& r, sluice::Diagnostics& d) {
    return sluice::load_pipeline(path, r, d);
  });
}

sluice_pipeline* sluice_pipeline_from_string(const char* toml, const char* origin, const sluice_settings* settings,
                                             sluice_error** error) {
  if (!toml) return fail(error, SLUICE_ERROR_USAGE, "sluice_pipeline_from_string: toml is NULL"), nullptr;
  std::string name = origin && *origin ? origin : "<string>";
  return sluice::embed::create(settings, error, [toml, &name](const sluice::PluginRegistry& r, sluice::Diagnostics& d) {
    return sluice::load_pipeline_text(toml, name, r, d);
  });
}

const char* sluice_pipeline_name(const sluice_pipeline* p) { return p ? p->config.name.c_str() : ""; }
const char* sluice_pipeline_warnings(const sluice_pipeline* p) { return p ? p->warnings.c_str() : ""; }

int sluice_pipeline_set_sink(sluice_pipeline* p, const char* name, sluice_sink_fn callback, void* user,
                             sluice_error** error) {
  return guarded(error, [&] {
    if (!p || !name || !callback) return fail(error, SLUICE_ERROR_USAGE, "sluice_pipeline_set_sink: NULL argument");
    const sluice::StepConfig* step = nullptr;
    for (const auto& s : p->config.sinks)
      if (s.name == name) step = &s;
    if (!step || step->plugin->name != "host" || step->plugin->origin != "built-in")
      return fail(error, SLUICE_ERROR_USAGE, std::string("the pipeline has no sink `") + name + "` of type `host`");
    std::lock_guard lock(p->mutex);
    if (p->phase != Phase::created)
      return fail(error, SLUICE_ERROR_USAGE, "sluice_pipeline_set_sink: the pipeline has started");
    p->host_sinks[name] = {callback, user};
    return 0;
  });
}

int sluice_pipeline_start(sluice_pipeline* p, sluice_error** error) {
  return guarded(error, [&] {
    if (!p) return fail(error, SLUICE_ERROR_USAGE, "sluice_pipeline_start: NULL pipeline");
    std::unique_lock lock(p->mutex);
    if (p->phase != Phase::created) return fail(error, SLUICE_ERROR_USAGE, "the pipeline was started before");
    p->phase = Phase::starting;
    spdlog::info("pipeline `{}` starting: {} source(s), {} sink(s)", p->config.name,
                 p->options.only == sluice::RunOptions::Only::sinks ? 0 : p->config.sources.size(),
                 p->options.only == sluice::RunOptions::Only::sources ? 0 : p->config.sinks.size());
    try {
      p->runner = std::thread(sluice::embed::run, p);
    } catch (...) {
      p->phase = Phase::created;
      throw;
    }
    p->changed.wait(lock, [p] { return p->phase != Phase::starting; });
    if (p->phase == Phase::ended && p->exit_code != sluice::kExitOk)
      return fail(error, sluice::embed::failure_code(p->failure, p->exit_code), p->failure.message);
    return 0;
  });
}

int sluice_pipeline_push(sluice_pipeline* p, const char* source, const sluice_record* r, int64_t timeout_ms,
                         sluice_error** error) {
  return guarded(error, [&] {
    if (!p || !source || !r || (!r->value && r->value_len))
      return fail(error, SLUICE_ERROR_USAGE, "sluice_pipeline_push: NULL argument");
    auto it = p->host_sources.find(source);
    if (it == p->host_sources.end())
      return fail(error, SLUICE_ERROR_USAGE, std::string("the pipeline has no source `") + source + "` of type `host`");
    {
      std::lock_guard lock(p->mutex);
      if (p->phase == Phase::created || p->phase == Phase::starting)
        return fail(error, SLUICE_ERROR_USAGE, "sluice_pipeline_push: the pipeline has not started");
    }
    sluice::embed::HostRecord record;
    record.value.assign(r->value ? r->value : "", r->value_len);
    if (r->key) record.key.emplace(r->key, r->key_len);
    if (r->struct_size >= offsetof(sluice_record, header_value_lens) + sizeof r->header_value_lens)
      for (size_t i = 0; i < r->header_count; ++i) {
        const char* v = r->header_values ? r->header_values[i] : nullptr;
        if (!r->header_names || !r->header_names[i] || (v && !r->header_value_lens))
          return fail(error, SLUICE_ERROR_USAGE, "sluice_pipeline_push: header " + std::to_string(i) +
                                                     " has no name, or a value without header_value_lens");
        record.headers.emplace_back(r->header_names[i], v ? std::string(v, r->header_value_lens[i]) : std::string());
      }
    using Push = sluice::embed::HostQueue::Push;
    switch (it->second->push(std::move(record), sluice::embed::timeout_of(timeout_ms))) {
      case Push::queued: return 0;
      case Push::full: return fail(error, SLUICE_ERROR_AGAIN, std::string("source `") + source + "`: queue full");
      case Push::closed: break;
    }
    return fail(error, SLUICE_ERROR_STOPPED, std::string("source `") + source + "` is closed or the pipeline stopped");
  });
}

int sluice_pipeline_close_source(sluice_pipeline* p, const char* source, sluice_error** error) {
  return guarded(error, [&] {
    if (!p || !source) return fail(error, SLUICE_ERROR_USAGE, "sluice_pipeline_close_source: NULL argument");
    auto it = p->host_sources.find(source);
    if (it == p->host_sources.end())
      return fail(error, SLUICE_ERROR_USAGE, std::string("the pipeline has no source `") + source + "` of type `host`");
    it->second->close();
    return 0;
  });
}

void sluice_pipeline_stop(sluice_pipeline* p) {
  if (!p) return;
  p->stop.request();
  sluice::embed::close_host_sources(*p);
}

int sluice_pipeline_wait(sluice_pipeline* p, int64_t timeout_ms, sluice_error** error) {
  return guarded(error, [&] {
    if (!p) return fail(error, SLUICE_ERROR_USAGE, "sluice_pipeline_wait: NULL pipeline");
    std::unique_lock lock(p->mutex);
    if (p->phase == Phase::created) return fail(error, SLUICE_ERROR_USAGE, "sluice_pipeline_wait: not started");
    auto ended = [p] { return p->phase == Phase::ended; };
    if (timeout_ms < 0) p->changed.wait(lock, ended);
    else if (!p->changed.wait_for(lock, sluice::embed::timeout_of(timeout_ms), ended))
      return fail(error, SLUICE_ERROR_AGAIN, "the pipeline still runs");
    if (p->exit_code == sluice::kExitOk) return 0;
    return fail(error, sluice::embed::failure_code(p->failure, p->exit_code), p->failure.message);
  });
}

int sluice_pipeline_state_of(const sluice_pipeline* p) {
  if (!p) return SLUICE_PIPELINE_ENDED;
  std::lock_guard lock(p->mutex);
  switch (p->phase) {
    case Phase::created: return SLUICE_PIPELINE_CREATED;
    case Phase::ended: return SLUICE_PIPELINE_ENDED;
    default: return p->stop.requested() ? SLUICE_PIPELINE_STOPPING : SLUICE_PIPELINE_RUNNING;
  }
}

void sluice_pipeline_free(sluice_pipeline* p) {
  if (!p) return;
  std::unique_ptr<sluice_pipeline> owned(p);
  sluice_pipeline_stop(p);
  if (p->runner.joinable()) p->runner.join();
}

}  // extern "C"
