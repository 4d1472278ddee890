#include "transform/lua_sandbox.h"

#include <cctype>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>

extern "C" {
#include <lauxlib.h>
#include <lualib.h>
}

#include "sluice/bounded_file.h"
#include "transform/lua_bounded_lib.h"
#include "transform/lua_helpers.h"
#include "transform/lua_state.h"

namespace sluice {

namespace {

// Names left out of the sandbox fail loudly instead of reading as nil, so a
// script author learns why at once rather than from "attempt to call a nil value".
int forbidden(lua_State* L) {
  return luaL_error(L, "%s is not available in the sluice sandbox", lua_tostring(L, lua_upvalueindex(1)));
}

void set_forbidden(lua_State* L, int table, const char* field, const char* shown) {
  table = lua_absindex(L, table);
  lua_pushstring(L, shown);
  lua_pushcclosure(L, forbidden, 1);
  lua_setfield(L, table, field);
}

int forbidden_library_index(lua_State* L) {
  const char* lib = lua_tostring(L, lua_upvalueindex(1));
  const char* key = lua_tostring(L, 2);
  return luaL_error(L, "%s.%s is not available in the sluice sandbox (no %s library)", lib,
                    key ? key : "?", lib);
}

void set_forbidden_library(lua_State* L, const char* name) {
  lua_newtable(L);
  lua_newtable(L);
  lua_pushstring(L, name);
  lua_pushcclosure(L, forbidden_library_index, 1);
  lua_setfield(L, -2, "__index");
  lua_pushstring(L, name);
  lua_pushcclosure(L, forbidden_library_index, 1);
  lua_setfield(L, -2, "__newindex");
  lua_setmetatable(L, -2);
  lua_setglobal(L, name);
}

// load() restricted to text: precompiled bytecode can crash the VM.
int load_text_only(lua_State* L) {
  int nargs = lua_gettop(L);
  if (nargs >= 3 && !lua_isnil(L, 3)) {
    const char* mode = lua_tostring(L, 3);
    if (!mode || std::string_view(mode) != "t")
      return luaL_error(L, "load: only text chunks (mode \"t\") are allowed in the sluice sandbox");
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushvalue(L, 1);
  if (nargs >= 2) lua_pushvalue(L, 2); else lua_pushnil(L);
  lua_pushliteral(L, "t");
  if (nargs >= 4) {
    lua_pushvalue(L, 4);
    lua_call(L, 4, LUA_MULTRET);
  } else {
    lua_call(L, 3, LUA_MULTRET);
  }
  return lua_gettop(L) - nargs;
}

}  // namespace

void push_environment(lua_State* L) {
  lua_newtable(L);
  lua_newtable(L);
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, -2);
}

namespace {

bool valid_module_name(std::string_view name) {
  if (name.empty() || name.front() == '.' || name.back() == '.') return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.')) return false;
  return name.find("..") == std::string_view::npos;
}

// require, confined to the transforms path; modules are text files, each with
// its own environment, loaded once per state.
int sandboxed_require(lua_State* L) {
  // Only Lua strings here: a Lua error longjmps over C++ destructors.
  size_t len = 0;
  const char* name = luaL_checklstring(L, 1, &len);
  const char* dir = lua_tostring(L, lua_upvalueindex(1));
  if (!valid_module_name({name, len}))
    return luaL_error(L, "require: `%s` is not a module name (letters, digits, _ and dots only)", name);
  if (!dir || !*dir) return luaL_error(L, "require: no transforms path to load `%s` from", name);
  lua_getfield(L, LUA_REGISTRYINDEX, "sluice.loaded");
  if (lua_getfield(L, -1, name) != LUA_TNIL) return 1;
  lua_pop(L, 1);
  const char* relative = luaL_gsub(L, name, ".", "/");
  const char* path = lua_pushfstring(L, "%s/%s.lua", dir, relative);
  // A module must be a bounded regular file too (a FIFO would block the
  // load); the C++ string is gone before luaL_error can longjmp.
  char problem[512] = "";
  {
    std::string found = bounded_file_problem(path, kMaxScriptFileBytes);
    std::snprintf(problem, sizeof problem, "%s", found.c_str());
  }
  if (*problem) return luaL_error(L, "require `%s`: %s", name, problem);
  if (luaL_loadfilex(L, path, "t") != LUA_OK)
    return luaL_error(L, "require `%s`: %s", name, lua_tostring(L, -1));
  push_environment(L);
  lua_setupvalue(L, -2, 1);
  lua_pushstring(L, name);
  lua_call(L, 1, 1);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_pushboolean(L, 1);
  }
  lua_pushvalue(L, -1);
  lua_setfield(L, 2, name);
  return 1;
}

// collectgarbage without the options that would switch the collector off
// (or retune it) for every later record of the state.
int limited_collectgarbage(lua_State* L) {
  const char* option = luaL_optstring(L, 1, "collect");
  std::string_view o(option);
  if (o != "collect" && o != "count" && o != "step" && o != "isrunning")
    return luaL_error(L, "collectgarbage(\"%s\") is not available in the sluice sandbox", option);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

// A finalizer runs with Lua's hooks off, so no budget could end one that
// never returns (at run time, when a script is checked, or when its state is
// closed): the sandbox has none. Lua marks an object for finalization only
// if its metatable has __gc when set, so refusing such a metatable here is
// enough; the metatables sluice sets from C are sealed (seal_metatable).
void refuse_finalizers(lua_State* L, int metatable) {
  if (lua_type(L, metatable) != LUA_TTABLE) return;
  lua_pushliteral(L, "__gc");
  const bool has_gc = lua_rawget(L, metatable) != LUA_TNIL;
  lua_pop(L, 1);
  if (has_gc) luaL_error(L, "setmetatable: __gc finalizers are not available in the sluice sandbox");
}

enum class RawFunction { next, rawget, rawset, rawlen, getmetatable, setmetatable };

// The checks the wrapped function makes, made first here: an error raised
// inside it could not name it (it is called from C), one raised here does.
void check_raw_arguments(lua_State* L, RawFunction f) {
  switch (f) {
    case RawFunction::getmetatable:
      luaL_checkany(L, 1);
      return;
    case RawFunction::rawlen: {
      const int t = lua_type(L, 1);
      luaL_argexpected(L, t == LUA_TTABLE || t == LUA_TSTRING, 1, "table or string");
      return;
    }
    default:
      luaL_checktype(L, 1, LUA_TTABLE);
      break;
  }
  if (f == RawFunction::rawget) {
    luaL_checkany(L, 2);
  } else if (f == RawFunction::rawset) {
    luaL_checkany(L, 2);
    luaL_checkany(L, 3);
  } else if (f == RawFunction::setmetatable) {
    const int t = lua_type(L, 2);
    luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
    refuse_finalizers(L, 2);
  }
  if (f == RawFunction::rawset && has_marker(L, 1, kSealedMarker))
    luaL_error(L, "rawset: this table belongs to sluice and is read-only");
}

// next, rawget, rawset, rawlen, getmetatable and setmetatable, seeing a
// lazily read record as the plain table it stands for.
int see_through_records(lua_State* L) {
  check_raw_arguments(L, static_cast<RawFunction>(lua_tointeger(L, lua_upvalueindex(2))));
  if (lua_type(L, 1) == LUA_TTABLE) materialize_if_record(L, 1);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

// type() and math.type() answer with names made once, as upvalues: the
// library's versions look their answer up in the string table on every
// call, and a validation script calls them several times per record.
int type_from_upvalues(lua_State* L) {
  const int t = lua_type(L, 1);
  luaL_argcheck(L, t != LUA_TNONE, 1, "value expected");
  lua_pushvalue(L, lua_upvalueindex(t + 1));
  return 1;
}

int math_type_from_upvalues(lua_State* L) {
  if (lua_type(L, 1) == LUA_TNUMBER) {
    lua_pushvalue(L, lua_upvalueindex(lua_isinteger(L, 1) ? 1 : 2));
  } else {
    luaL_checkany(L, 1);
    lua_pushnil(L);
  }
  return 1;
}

int sealed_newindex(lua_State* L) {
  return luaL_error(L, "this table belongs to sluice and is read-only");
}

int print_to_log(lua_State* L) {
  int n = lua_gettop(L);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (int i = 1; i <= n; ++i) {
    if (i > 1) luaL_addchar(&b, '\t');
    luaL_tolstring(L, i, nullptr);
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  log_from_lua("info", lua_tostring(L, -1));
  return 0;
}

}  // namespace

void open_sandbox(lua_State* L, const std::string& module_dir) {
  static const luaL_Reg libs[] = {{LUA_GNAME, luaopen_base},      {LUA_TABLIBNAME, luaopen_table},
                                  {LUA_STRLIBNAME, luaopen_string}, {LUA_MATHLIBNAME, luaopen_math},
                                  {LUA_UTF8LIBNAME, luaopen_utf8},  {LUA_OSLIBNAME, luaopen_os},
                                  {LUA_COLIBNAME, luaopen_coroutine}};
  for (const auto& lib : libs) {
    luaL_requiref(L, lib.name, lib.func, 1);
    lua_pop(L, 1);
  }
  lua_pushglobaltable(L);
  int g = lua_gettop(L);
  set_forbidden(L, g, "dofile", "dofile");
  set_forbidden(L, g, "loadfile", "loadfile");
  lua_getfield(L, g, "load");
  lua_pushcclosure(L, load_text_only, 1);
  lua_setfield(L, g, "load");
  lua_pushcfunction(L, print_to_log);
  lua_setfield(L, g, "print");
  const std::pair<const char*, RawFunction> raw[] = {
      {"next", RawFunction::next},     {"rawget", RawFunction::rawget},
      {"rawset", RawFunction::rawset}, {"rawlen", RawFunction::rawlen},
      {"getmetatable", RawFunction::getmetatable}, {"setmetatable", RawFunction::setmetatable}};
  for (const auto& [name, f] : raw) {
    lua_getfield(L, g, name);
    lua_pushinteger(L, static_cast<lua_Integer>(f));
    lua_pushcclosure(L, see_through_records, 2);
    lua_setfield(L, g, name);
  }
  for (int t = LUA_TNIL; t < LUA_NUMTYPES; ++t) lua_pushstring(L, lua_typename(L, t));
  lua_pushcclosure(L, type_from_upvalues, LUA_NUMTYPES);
  lua_setfield(L, g, "type");
  lua_getfield(L, g, "math");
  lua_pushliteral(L, "integer");
  lua_pushliteral(L, "float");
  lua_pushcclosure(L, math_type_from_upvalues, 2);
  lua_setfield(L, -2, "type");
  lua_pop(L, 1);
  lua_getfield(L, g, "collectgarbage");
  lua_pushcclosure(L, limited_collectgarbage, 1);
  lua_setfield(L, g, "collectgarbage");

  lua_getfield(L, g, "string");
  set_forbidden(L, -1, "dump", "string.dump");
  lua_pop(L, 1);
  lua_getfield(L, g, "os");
  for (const char* name : {"execute", "exit", "getenv", "remove", "rename", "tmpname", "setlocale"})
    set_forbidden(L, -1, name, (std::string("os.") + name).c_str());
  lua_pop(L, 1);
  for (const char* name : {"io", "debug", "package"}) set_forbidden_library(L, name);

  lua_newtable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, "sluice.loaded");
  lua_pushstring(L, module_dir.c_str());
  lua_pushcclosure(L, sandboxed_require, 1);
  lua_setfield(L, g, "require");

  // The markers' metatables are sealed: a script reaches them through
  // getmetatable, and one it could give a __gc would finalize every array
  // decoded after (see refuse_finalizers).
  lua_newtable(L);
  lua_pushcfunction(L, sealed_newindex);
  lua_setfield(L, -2, "__newindex");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_rawsetp(L, LUA_REGISTRYINDEX, kSealedMarker);
  // Keyed by address, not name: looked up for every table encoded.
  for (const char* marker : {kArrayMarker, kObjectMarker, kManyMarker}) {
    lua_newtable(L);
    lua_pushstring(L, marker);
    lua_setfield(L, -2, "__name");
    lua_rawgetp(L, LUA_REGISTRYINDEX, kSealedMarker);
    lua_setmetatable(L, -2);
    lua_rawsetp(L, LUA_REGISTRYINDEX, marker);
  }
  open_bounded_library(L);
  open_sluice_helpers(L);
  lua_setfield(L, g, "sluice");
  lua_pop(L, 1);
}

}  // namespace sluice
