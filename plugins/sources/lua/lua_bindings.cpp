// The C functions a Lua source's script calls: ctx.* and sluice.http.*. Lua
// errors are raised only where no C++ object with a destructor is alive in
// the frame (the scratch lives in ScriptHost); the C++ work is in
// ScriptHost's noexcept members.
#include <algorithm>
#include <cmath>
#include <cstring>

extern "C" {
#include <lauxlib.h>
#include <lua.h>
}

#include "script_engine.h"
#include "sluice/error.h"
#include "sluice/utf8.h"
#include "state_file.h"

namespace lua_source {

bool ScriptHost::emit(std::string_view value, const char* key, size_t key_len) noexcept {
  try {
    if (key) emitter->emit(value, std::string_view(key, key_len));
    else emitter->emit(value);
    return true;
  } catch (const sluice::Error& e) {
    error = std::string("ctx.emit: ") + e.what();
    // The pipeline ends on it: say which record (its size: Kafka refuses one over message.max.bytes).
    if (!e.retriable() && !e.stopped()) {
      try {
        fatal = std::make_exception_ptr(sluice::Error(
            static_cast<sluice::errc>(e.code().value()), "ctx.emit of a " + std::to_string(value.size()) + "-byte record: " + e.what()));
      } catch (...) {
        fatal = std::current_exception();
      }
    }
  } catch (const std::exception& e) {
    fatal = std::current_exception();
    error = std::string("ctx.emit: ") + e.what();
  }
  return false;
}

bool ScriptHost::perform_http() noexcept {
  try {
    std::function<bool()> stopping = [this] { return emitter && emitter->stopping(); };
    return http->perform(request, stopping, response, error);
  } catch (...) {
    error = "out of memory";
    return false;
  }
}

int ScriptHost::save_state(std::string_view text) noexcept {
  try {
    if (state_path.empty()) return 1;
    // What is saved must load at the next start, which takes an object only.
    if (text.empty() || text.front() != '{') {
      error = "ctx.state must be a JSON object (a table with string keys), not an array";
      return -1;
    }
    // The start reads JSON, which is UTF-8: raw bytes (an ETag, a body) would
    // be written and then refuse every later start.
    if (const size_t bad = sluice::first_invalid_utf8(text); bad != std::string_view::npos) {
      error = "ctx.state holds a string that is not valid UTF-8 (byte " + std::to_string(bad) +
              " of its JSON); encode binary data (hex, base64) before keeping it";
      return -1;
    }
    // Waits even when the state is unchanged: the script may rely on
    // checkpoint() meaning "every record so far is in Kafka".
    if (!emitter || !emitter->wait_delivered()) return 0;
    if (text == last_saved) return 1;
    write_state(state_path, std::string(text));
    last_saved.assign(text);
    return 1;
  } catch (const sluice::Error& e) {
    if (!e.retriable()) fatal = std::current_exception();
    error = e.what();
  } catch (const std::exception& e) {
    error = e.what();
  }
  return -1;
}

namespace {

ScriptHost& host_of(lua_State* L) { return *static_cast<ScriptHost*>(lua_touserdata(L, lua_upvalueindex(1))); }

// Assigns without letting an allocation failure unwind through Lua's frames.
bool assign(std::string& to, const char* s, size_t n) noexcept {
  try {
    to.assign(s, n);
    return true;
  } catch (...) {
    return false;
  }
}

bool add_header(ScriptHost& h, const char* name, size_t name_len, const char* value, size_t value_len) noexcept {
  try {
    h.request.headers.emplace_back(std::string(name, name_len), std::string(value, value_len));
    return true;
  } catch (...) {
    return false;
  }
}

bool valid_header_name(const char* s, size_t n) {
  if (n == 0) return false;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c <= ' ' || c == ':' || c >= 127) return false;
  }
  return true;
}

// Reads opts (headers, timeout, body) at `opts` into host.request; raises on a mistake.
void read_http_options(lua_State* L, ScriptHost& h, int opts) {
  if (lua_isnoneornil(L, opts)) return;
  luaL_checktype(L, opts, LUA_TTABLE);
  if (lua_getfield(L, opts, "headers") == LUA_TTABLE) {
    const int headers = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, headers)) {
      if (lua_type(L, -2) != LUA_TSTRING) luaL_error(L, "sluice.http: header names must be strings");
      size_t name_len = 0, value_len = 0;
      const char* name = lua_tolstring(L, -2, &name_len);
      if (!valid_header_name(name, name_len)) luaL_error(L, "sluice.http: `%s` is not a header name", name);
      const int t = lua_type(L, -1);
      if (t != LUA_TSTRING && t != LUA_TNUMBER) luaL_error(L, "sluice.http: header `%s` must be a string", name);
      const char* value = lua_tolstring(L, -1, &value_len);  // the value's slot: converting it is safe for next()
      if (std::memchr(value, '\r', value_len) || std::memchr(value, '\n', value_len) ||
          std::memchr(value, '\0', value_len))
        luaL_error(L, "sluice.http: header `%s` holds a line break or a NUL byte", name);
      if (!add_header(h, name, name_len, value, value_len)) luaL_error(L, "sluice.http: out of memory");
      lua_pop(L, 1);
    }
  } else if (!lua_isnil(L, -1)) {
    luaL_error(L, "sluice.http: opts.headers must be a table");
  }
  lua_pop(L, 1);
  if (lua_getfield(L, opts, "timeout") != LUA_TNIL) {
    int is_number = 0;
    const lua_Number seconds = lua_tonumberx(L, -1, &is_number);
    if (!is_number || !(seconds > 0) || seconds > 86400)
      luaL_error(L, "sluice.http: opts.timeout must be a number of seconds (0 to 86400)");
    h.request.timeout = std::chrono::milliseconds(static_cast<int64_t>(std::ceil(seconds * 1000)));
  }
  lua_pop(L, 1);
  if (lua_getfield(L, opts, "body") != LUA_TNIL) {
    size_t len = 0;
    const char* body = lua_tolstring(L, -1, &len);
    if (!body) luaL_error(L, "sluice.http: opts.body must be a string");
    if (!assign(h.request.body, body, len)) luaL_error(L, "sluice.http: out of memory");
    h.request.has_body = true;
  }
  lua_pop(L, 1);
}

int http_call(lua_State* L, const char* method, size_t method_len, int url_at) {
  ScriptHost& h = host_of(L);
  size_t url_len = 0;
  const char* url = luaL_checklstring(L, url_at, &url_len);
  h.request.headers.clear();
  h.request.body.clear();
  h.request.has_body = false;
  h.request.timeout = h.http_timeout;
  if (!assign(h.request.method, method, method_len) || !assign(h.request.url, url, url_len))
    return luaL_error(L, "sluice.http: out of memory");
  read_http_options(L, h, url_at + 1);
  if (!h.http) {
    lua_pushnil(L);
    lua_pushliteral(L, "sluice.http makes no requests at the script's top level (it also runs when the pipeline is checked)");
    return 2;
  }
  sluice::LuaHost::begin_wait(L);
  const bool ok = h.perform_http();
  sluice::LuaHost::end_wait(L);
  if (!ok) {
    lua_pushnil(L);
    lua_pushstring(L, h.error.c_str());
    return 2;
  }
  lua_createtable(L, 0, 3);
  lua_pushinteger(L, h.response.status);
  lua_setfield(L, -2, "status");
  lua_createtable(L, 0, static_cast<int>(h.response.headers.size()));
  for (const auto& [name, value] : h.response.headers) {
    lua_pushlstring(L, value.data(), value.size());
    lua_setfield(L, -2, name.c_str());
  }
  lua_setfield(L, -2, "headers");
  lua_pushlstring(L, h.response.body.data(), h.response.body.size());
  lua_setfield(L, -2, "body");
  if (h.response.body.capacity() > (1u << 20)) std::string().swap(h.response.body);  // a large body's buffer goes now
  return 1;
}

int http_get(lua_State* L) { return http_call(L, "GET", 3, 1); }
int http_post(lua_State* L) { return http_call(L, "POST", 4, 1); }
int http_request(lua_State* L) {
  size_t len = 0;
  const char* method = luaL_checklstring(L, 1, &len);
  for (size_t i = 0; i < len; ++i)
    if (!(method[i] >= 'A' && method[i] <= 'Z')) return luaL_error(L, "sluice.http.request: `%s` is not a method (GET, POST, PUT, ...)", method);
  if (len == 0 || len > 20) return luaL_error(L, "sluice.http.request: a method (GET, POST, PUT, ...) expected");
  return http_call(L, method, len, 2);
}

// Calls sluice.json.encode (function and value on the stack). Its errors are
// raised inside it, where no line of the script is known: on failure this
// leaves "file:line: what: error" on the stack for the caller to raise.
bool encode_at_callers_line(lua_State* L, const char* what) {
  if (lua_pcall(L, 1, 1, 0) == LUA_OK) return true;
  luaL_where(L, 1);
  lua_pushstring(L, what);
  lua_pushliteral(L, ": ");
  if (lua_type(L, -4) == LUA_TSTRING) lua_pushvalue(L, -4);
  else lua_pushliteral(L, "cannot be encoded");
  lua_concat(L, 4);
  return false;
}

// ctx's functions: upvalue 1 the host, 2 sluice.json.encode, 3 the ctx table.
int ctx_emit(lua_State* L) {
  ScriptHost& h = host_of(L);
  const int t = lua_type(L, 1);
  if (t == LUA_TTABLE) {
    lua_pushvalue(L, lua_upvalueindex(2));
    lua_pushvalue(L, 1);
    if (!encode_at_callers_line(L, "ctx.emit")) return lua_error(L);
    lua_replace(L, 1);
  } else if (t != LUA_TSTRING) {
    return luaL_argerror(L, 1, "a table or a JSON string expected");
  }
  const char* key = nullptr;
  size_t key_len = 0;
  const int kt = lua_type(L, 2);
  if (kt == LUA_TSTRING || kt == LUA_TNUMBER) key = lua_tolstring(L, 2, &key_len);
  else if (kt != LUA_TNONE && kt != LUA_TNIL) return luaL_argerror(L, 2, "a string key expected");
  if (!h.emitter) return luaL_error(L, "ctx.emit: no records are produced while the script is checked");
  size_t len = 0;
  const char* value = lua_tolstring(L, 1, &len);
  sluice::LuaHost::begin_wait(L);  // it may wait while the producer's queue is full
  const bool ok = h.emit({value, len}, key, key_len);
  sluice::LuaHost::end_wait(L);
  if (!ok) return luaL_error(L, "%s", h.error.c_str());
  return 0;
}

// run()'s budget is renewed at each wait, but not once the pipeline stops: a
// script that ignores ctx.sleep's false and loops on would otherwise never end.
bool renews_budget(const ScriptHost& h) { return h.run_mode && h.emitter && !h.emitter->stopping(); }

int ctx_sleep(lua_State* L) {
  ScriptHost& h = host_of(L);
  lua_Number seconds = luaL_checknumber(L, 1);
  // NaN and negatives are no wait; a year is as good as forever and keeps the
  // conversion to milliseconds finite.
  seconds = seconds > 0 ? std::min<lua_Number>(seconds, 365.0 * 86400) : 0;
  if (!h.emitter) {
    lua_pushboolean(L, 0);
    return 1;
  }
  sluice::LuaHost::begin_wait(L);
  const bool slept = h.emitter->wait_for(seconds);
  sluice::LuaHost::end_wait(L, renews_budget(h));
  lua_pushboolean(L, slept);
  return 1;
}

int ctx_stopping(lua_State* L) {
  ScriptHost& h = host_of(L);
  lua_pushboolean(L, !h.emitter || h.emitter->stopping());
  return 1;
}

int ctx_checkpoint(lua_State* L) {
  ScriptHost& h = host_of(L);
  lua_getfield(L, lua_upvalueindex(3), "state");
  if (!lua_istable(L, -1)) return luaL_error(L, "ctx.state must be a table, not a %s", luaL_typename(L, -1));
  lua_pushvalue(L, lua_upvalueindex(2));
  lua_insert(L, -2);
  if (!encode_at_callers_line(L, "ctx.checkpoint: ctx.state")) return lua_error(L);
  size_t len = 0;
  const char* text = lua_tolstring(L, -1, &len);
  if (!text) return luaL_error(L, "ctx.state could not be encoded");
  sluice::LuaHost::begin_wait(L);
  const int saved = h.save_state({text, len});
  sluice::LuaHost::end_wait(L, renews_budget(h));
  if (saved < 0) return luaL_error(L, "ctx.state not saved: %s", h.error.c_str());
  lua_pushboolean(L, saved);
  return 1;
}

void push_string_table(lua_State* L, const sluice::StringMap& values) {
  lua_createtable(L, 0, static_cast<int>(values.size()));
  for (const auto& [name, value] : values) {
    lua_pushlstring(L, value.data(), value.size());
    lua_setfield(L, -2, name.c_str());
  }
}

// sluice.log.<level>(msg): upvalue 1 the transforms' sluice.log(level, msg), 2 the level.
int log_at_level(lua_State* L) {
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushvalue(L, lua_upvalueindex(2));
  lua_pushvalue(L, 1);
  lua_call(L, 2, 0);
  return 0;
}

// sluice.log(level, msg) called on the table: arguments after the table itself.
int log_call(lua_State* L) {
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushvalue(L, 2);
  lua_pushvalue(L, 3);
  lua_call(L, 2, 0);
  return 0;
}

// sluice.log becomes a table of sluice.log.info(msg) & co, still callable as
// sluice.log("info", msg) as in transforms.
void open_log_levels(lua_State* L, int sluice_table) {
  lua_getfield(L, sluice_table, "log");
  const int log = lua_gettop(L);
  lua_createtable(L, 0, 5);
  for (const char* level : {"trace", "debug", "info", "warn", "error"}) {
    lua_pushvalue(L, log);
    lua_pushstring(L, level);
    lua_pushcclosure(L, log_at_level, 2);
    lua_setfield(L, -2, level);
  }
  lua_createtable(L, 0, 1);
  lua_pushvalue(L, log);
  lua_pushcclosure(L, log_call, 1);
  lua_setfield(L, -2, "__call");
  lua_setmetatable(L, -2);
  lua_setfield(L, sluice_table, "log");
  lua_pop(L, 1);
}

}  // namespace

void open_http(lua_State* L, ScriptHost* host) {
  lua_getglobal(L, "sluice");
  open_log_levels(L, lua_gettop(L));
  lua_createtable(L, 0, 3);
  const std::pair<const char*, lua_CFunction> functions[] = {
      {"get", http_get}, {"post", http_post}, {"request", http_request}};
  for (const auto& [name, f] : functions) {
    lua_pushlightuserdata(L, host);
    lua_pushcclosure(L, f, 1);
    lua_setfield(L, -2, name);
  }
  lua_setfield(L, -2, "http");
  lua_pop(L, 1);
}

void push_ctx(lua_State* L, ScriptHost* host, int encode, const sluice::StringMap& params,
              const sluice::StringMap& secrets) {
  encode = lua_absindex(L, encode);
  lua_createtable(L, 0, 8);
  const int ctx = lua_gettop(L);
  const std::pair<const char*, lua_CFunction> functions[] = {
      {"emit", ctx_emit}, {"sleep", ctx_sleep}, {"stopping", ctx_stopping}, {"checkpoint", ctx_checkpoint}};
  for (const auto& [name, f] : functions) {
    lua_pushlightuserdata(L, host);
    lua_pushvalue(L, encode);
    lua_pushvalue(L, ctx);
    lua_pushcclosure(L, f, 3);
    lua_setfield(L, ctx, name);
  }
  push_string_table(L, params);
  lua_setfield(L, ctx, "params");
  push_string_table(L, secrets);
  lua_setfield(L, ctx, "secrets");
}

}  // namespace lua_source
