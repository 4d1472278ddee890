#include "script_engine.h"

#include <utility>

extern "C" {
#include <lauxlib.h>
#include <lua.h>
}

namespace lua_source {

ScriptEngine::ScriptEngine(const EngineSettings& settings, ScriptHost& host)
    : lua_(std::make_unique<sluice::LuaHost>(settings.limits, settings.module_dir)) {
  lua_State* L = lua_->state();
  open_http(L, &host);  // before the script's top level, which may keep a reference to it
  // The top level makes no requests, in `run` as in `check`: it would pass
  // one and fail the other, and a slow server would hold up the start
  // (and its stop) for up to the request's timeout.
  HttpClient* const client = std::exchange(host.http, nullptr);
  const bool loaded = lua_->load(settings.script, settings.shown, error_);
  host.http = client;
  if (!loaded) return;
  lua_->push_global("poll");
  const bool has_poll = lua_isfunction(L, -1);
  lua_pop(L, 1);
  lua_->push_global("run");
  const bool has_run = lua_isfunction(L, -1);
  lua_pop(L, 1);
  if (has_poll == has_run) {
    error_ = settings.shown + ": " +
             (has_poll ? "defines both poll(ctx) and run(ctx); a lua source runs one of them"
                       : "defines neither poll(ctx) nor run(ctx)");
    return;
  }
  run_mode_ = has_run;
  host.run_mode = has_run;
  // The library functions the host calls, kept where a script cannot swap them.
  lua_getglobal(L, "sluice");
  lua_getfield(L, -1, "json");
  lua_getfield(L, -1, "decode");
  decode_ref_ = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_getfield(L, -1, "encode");
  push_ctx(L, &host, -1, *settings.params, *settings.secrets);
  lua_getfield(L, -1, "checkpoint");
  checkpoint_ref_ = luaL_ref(L, LUA_REGISTRYINDEX);
  ctx_ref_ = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_pop(L, 3);  // encode, json, sluice
}

ScriptEngine::~ScriptEngine() = default;

bool ScriptEngine::set_state(const std::string& text, std::string& error) {
  lua_State* L = lua_->state();
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos || text[first] != '{') {
    error = "it does not hold a JSON object";
    return false;
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, decode_ref_);
  lua_pushlstring(L, text.data(), text.size());
  if (!lua_->call(1, 2, error)) return false;
  if (lua_isnil(L, -2)) {
    error = lua_isstring(L, -1) ? lua_tostring(L, -1) : "not valid JSON";
    lua_pop(L, 2);
    return false;
  }
  lua_pop(L, 1);
  lua_rawgeti(L, LUA_REGISTRYINDEX, ctx_ref_);
  lua_insert(L, -2);
  lua_setfield(L, -2, "state");
  lua_pop(L, 1);
  return true;
}

bool ScriptEngine::call_entry(std::string& error) {
  lua_State* L = lua_->state();
  lua_->push_global(entry());
  lua_rawgeti(L, LUA_REGISTRYINDEX, ctx_ref_);
  return lua_->call(1, 0, error);
}

int ScriptEngine::checkpoint(std::string& error) {
  lua_State* L = lua_->state();
  lua_rawgeti(L, LUA_REGISTRYINDEX, checkpoint_ref_);
  if (!lua_->call(0, 1, error)) return -1;
  const int saved = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return saved;
}

std::string check_script(const std::string& path, const std::string& shown, const std::string& module_dir) {
  ScriptHost host;
  const sluice::StringMap none;
  EngineSettings settings{path, shown, module_dir, {}, &none, &none};
  ScriptEngine engine(settings, host);
  if (!engine.ok()) return engine.error();
  std::string error;
  if (!engine.set_state("{}", error)) return error;
  return "";
}

}  // namespace lua_source
