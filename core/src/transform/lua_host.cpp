#include "sluice/lua_host.h"

extern "C" {
#include <lauxlib.h>
}

#include "transform/lua_budget.h"
#include "transform/lua_state.h"

namespace sluice {

LuaHost::LuaHost(LuaHostLimits limits, std::string module_dir)
    : lua_(std::make_unique<LuaState>(TransformLimits{limits.instructions, limits.memory_bytes}, std::move(module_dir))) {}

LuaHost::~LuaHost() = default;

lua_State* LuaHost::state() const { return lua_->get(); }

bool LuaHost::load(const std::string& path, const std::string& shown, std::string& error) {
  lua_State* L = lua_->get();
  if (!lua_->load_script(path, shown, error)) return false;
  if (env_ref_ != LUA_NOREF) luaL_unref(L, LUA_REGISTRYINDEX, env_ref_);
  env_ref_ = luaL_ref(L, LUA_REGISTRYINDEX);  // pops the environment
  return true;
}

void LuaHost::push_global(const char* name) const {
  lua_State* L = lua_->get();
  if (env_ref_ == LUA_NOREF) {
    lua_pushnil(L);
    return;
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, env_ref_);
  lua_getfield(L, -1, name);
  lua_remove(L, -2);
}

bool LuaHost::call(int nargs, int nresults, std::string& error) {
  const int status = lua_->call(nargs, nresults);
  if (status == LUA_OK) return true;
  error = lua_->pop_error(status);
  return false;
}

bool LuaHost::spoiled() const { return lua_->spoiled(); }

void LuaHost::begin_wait(lua_State* L) { LuaBudget::of(L).begin_wait(); }
void LuaHost::end_wait(lua_State* L, bool renew_budget) { LuaBudget::of(L).end_wait(L, renew_budget); }

}  // namespace sluice
