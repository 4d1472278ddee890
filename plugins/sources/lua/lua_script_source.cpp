#include "lua_script_source.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>

#include "sluice/error.h"
#include "state_file.h"

namespace lua_source {

std::string resolve(const std::string& path, const std::string& pipeline_dir) {
  std::filesystem::path p(path);
  return (p.is_relative() && !pipeline_dir.empty() ? std::filesystem::path(pipeline_dir) / p : p).string();
}

LuaScriptSource::LuaScriptSource(const LuaSourceConfig& config, const sluice::PluginContext& ctx)
    : config_(config), name_(ctx.name) {
  settings_.script = resolve(config_.script, ctx.pipeline_dir);
  settings_.shown = settings_.script;
  settings_.module_dir = std::filesystem::path(settings_.script).parent_path().string();
  settings_.limits = {config_.instructions, static_cast<size_t>(config_.memory)};
  settings_.params = &config_.params;
  settings_.secrets = &config_.secrets;
  http_ = std::make_unique<HttpClient>(static_cast<size_t>(config_.http_max_bytes),
                                       config_.ca_file ? resolve(*config_.ca_file, ctx.pipeline_dir) : "");
  host_.http = http_.get();
  host_.http_timeout = config_.http_timeout;
  const std::string dir = state_dir_for(config_.state_dir, ctx.pipeline_dir, ctx.pipeline);
  make_state_dir(dir);
  host_.state_path = state_path_for(dir, name_);
  state_lock_ = std::make_unique<StateLock>(host_.state_path);
  engine_ = std::make_unique<ScriptEngine>(settings_, host_);
  if (!engine_->ok()) throw sluice::Error(sluice::errc::config, engine_->error());
  const std::optional<std::string> saved = read_state(host_.state_path);
  host_.last_saved = saved.value_or("{}");
  std::string error;
  if (!engine_->set_state(host_.last_saved, error))
    throw sluice::Error(sluice::errc::config, "the state file `" + host_.state_path + "` is unusable: " + error +
                                                  " (fix it, or remove it to start from an empty ctx.state)");
  spdlog::info("source `{}`: {}() of {} every {} ms; state in {}{}", name_, engine_->entry(), settings_.shown,
               config_.interval.count(), host_.state_path, saved ? "" : " (none yet)");
}

LuaScriptSource::~LuaScriptSource() = default;

void LuaScriptSource::rethrow_fatal() {
  if (host_.fatal) std::rethrow_exception(std::exchange(host_.fatal, nullptr));
}

bool LuaScriptSource::rebuild() {
  engine_.reset();  // the old state is closed before the new one is made
  auto engine = std::make_unique<ScriptEngine>(settings_, host_);
  std::string error = engine->error();
  if (engine->ok() && engine->set_state(host_.last_saved, error)) {
    engine_ = std::move(engine);
    spdlog::warn("source `{}`: the script's Lua state was made again, with the state saved last", name_);
    return true;
  }
  spdlog::error("source `{}`: cannot load the script again: {}", name_, error);
  return false;
}

void LuaScriptSource::round() {
  if (!engine_ && !rebuild()) return;
  ++rounds_;
  std::string error;
  bool ok = engine_->call_entry(error);
  rethrow_fatal();
  if (ok) {
    const int saved = engine_->checkpoint(error);
    rethrow_fatal();
    if (saved > 0) return;
    if (saved == 0) {
      spdlog::warn("source `{}`: stopped before Kafka acknowledged the records of this round; ctx.state not "
                   "saved (they may be emitted again)", name_);
      return;
    }
  }
  ++failures_;
  if (host_.emitter->stopping())
    spdlog::warn("source `{}`: {}() ended by the stop: {}", name_, engine_->entry(), error);
  else
    spdlog::error("source `{}`: {}() failed ({} of {} rounds so far): {}; ctx.state is back to the one saved last, "
                  "next try in {} ms", name_, engine_->entry(), failures_, rounds_, error, config_.interval.count());
  // What the failed round did to ctx.state is forgotten: records it emitted
  // are delivered, so the next round may emit them again, never lose them.
  std::string restore_error;
  if (engine_->spoiled() || !engine_->set_state(host_.last_saved, restore_error)) engine_.reset();
}

void LuaScriptSource::run(sluice::Emitter& emitter) {
  host_.emitter = &emitter;
  using Clock = std::chrono::steady_clock;
  while (!emitter.stopping()) {
    const auto started = Clock::now();
    round();
    const double left = std::chrono::duration<double>(started + config_.interval - Clock::now()).count();
    if (!emitter.wait_for(left > 0 ? left : 0)) break;
  }
  spdlog::info("source `{}`: stopped after {} rounds ({} failed)", name_, rounds_, failures_);
}

}  // namespace lua_source
