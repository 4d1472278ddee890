// Source `lua`: runs a script's poll(ctx) every interval (or its run(ctx)),
// producing what it emits, and saves ctx.state after Kafka acknowledged
// every record emitted before it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "script_engine.h"
#include "sluice/plugin_info.h"
#include "source_config.h"
#include "state_file.h"

namespace lua_source {

class LuaScriptSource : public sluice::Source {
 public:
  // Loads the script and the state file; throws sluice::Error(config) naming
  // the script's file:line, or the state file, when either is unusable.
  LuaScriptSource(const LuaSourceConfig& config, const sluice::PluginContext& ctx);
  ~LuaScriptSource() override;

  void run(sluice::Emitter& emitter) override;

 private:
  // One call of poll() (or run()) and the state saved after it.
  void round();
  // A new Lua state with the state last saved; false (logged) when that fails.
  bool rebuild();
  void rethrow_fatal();

  LuaSourceConfig config_;
  std::string name_;
  EngineSettings settings_;
  std::unique_ptr<HttpClient> http_;
  ScriptHost host_;
  std::unique_ptr<StateLock> state_lock_;
  std::unique_ptr<ScriptEngine> engine_;
  uint64_t failures_ = 0, rounds_ = 0;
};

// Resolves `path` against the pipeline's directory.
std::string resolve(const std::string& path, const std::string& pipeline_dir);

}  // namespace lua_source
