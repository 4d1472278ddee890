// A Lua source's script in its sandbox: the state, the `ctx` table handed to
// poll()/run(), and sluice.http. ScriptHost is what the script's C functions
// reach (the emitter, the HTTP client, the state file); ScriptEngine is one
// Lua state with the script loaded, made again when a call spoils it.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "http_client.h"
#include "sluice/lua_host.h"
#include "sluice/options.h"
#include "sluice/source.h"

namespace lua_source {

struct ScriptHost {
  sluice::Emitter* emitter = nullptr;  // null while `sluice check` loads the script
  HttpClient* http = nullptr;          // null likewise: sluice.http returns nil, err
  std::chrono::milliseconds http_timeout{30'000};
  std::string state_path;              // empty: ctx.checkpoint() saves nothing
  bool run_mode = false;               // run(): the budget is renewed at every wait
  std::string last_saved;              // the state text written last (or loaded)
  // A failure the pipeline cannot go on after (a record Kafka refused for
  // good): the runner rethrows it once the script's call is over.
  std::exception_ptr fatal;

  // Scratch of the C functions, members so that no C++ object lives in a
  // frame a Lua error may jump over.
  HttpRequest request;
  HttpResponse response;
  std::string error;

  // The C functions' work, which never throws: false with `error` set.
  bool emit(std::string_view value, const char* key, size_t key_len) noexcept;
  bool perform_http() noexcept;
  // 1 saved (or unchanged), 0 not saved as the pipeline stopped first, -1 failed.
  int save_state(std::string_view text) noexcept;
};

struct EngineSettings {
  std::string script;  // path
  std::string shown;   // the script's name in errors
  std::string module_dir;
  sluice::LuaHostLimits limits;
  const sluice::StringMap* params = nullptr;
  const sluice::StringMap* secrets = nullptr;
};

class ScriptEngine {
 public:
  // Loads the script and builds ctx; throws nothing: check ok() / error().
  ScriptEngine(const EngineSettings& settings, ScriptHost& host);
  ~ScriptEngine();
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  bool run_mode() const { return run_mode_; }
  const char* entry() const { return run_mode_ ? "run" : "poll"; }

  // ctx.state = the decoded `text`; false with `error` when it is not a JSON object.
  bool set_state(const std::string& text, std::string& error);
  // Calls poll(ctx) or run(ctx); false with the script's error ("file:line: ...").
  bool call_entry(std::string& error);
  // ctx.checkpoint() from the host: 1 saved, 0 stopping first, -1 failed.
  int checkpoint(std::string& error);
  bool spoiled() const { return lua_->spoiled(); }

 private:
  std::unique_ptr<sluice::LuaHost> lua_;
  std::string error_;
  bool run_mode_ = false;
  int ctx_ref_ = -2, decode_ref_ = -2, checkpoint_ref_ = -2;
};

// Registers sluice.http (functions reaching `host`) in the state's globals.
void open_http(lua_State* L, ScriptHost* host);
// Pushes a ctx table (emit, sleep, stopping, checkpoint, params, secrets;
// state is set by the engine). `encode`: index of sluice.json.encode.
void push_ctx(lua_State* L, ScriptHost* host, int encode, const sluice::StringMap& params,
              const sluice::StringMap& secrets);

// `sluice check`'s verdict on a script: "" when it loads and defines poll or run.
std::string check_script(const std::string& path, const std::string& shown, const std::string& module_dir);

}  // namespace lua_source
