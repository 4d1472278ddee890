#include "transform/lua_pattern.h"

#include <cctype>
#include <cstddef>
#include <cstring>

extern "C" {
#include <lauxlib.h>
}

#include "transform/lua_budget.h"
#include "transform/lua_pattern_match.h"

// Everything here may raise a Lua error (longjmp): no object with a
// destructor lives in these frames.

namespace sluice {

namespace {

constexpr char kSpecials[] = "^$*+?.([%-";

unsigned char byte(const char* p) { return static_cast<unsigned char>(*p); }

// A position argument as the library reads it: negative from the end, 0 as 1.
size_t start_position(lua_Integer pos, size_t length) {
  if (pos > 0) return static_cast<size_t>(pos);
  if (pos == 0) return 1;
  if (pos < -static_cast<lua_Integer>(length)) return 1;
  return length + static_cast<size_t>(pos) + 1;
}

bool has_specials(const char* p, size_t lp) {
  for (size_t i = 0; i < lp; ++i)
    if (p[i] != '\0' && std::strchr(kSpecials, p[i])) return true;
  return false;
}

int find_or_match(lua_State* L, bool find) {
  size_t ls = 0, lp = 0;
  const char* s = luaL_checklstring(L, 1, &ls);
  const char* p = luaL_checklstring(L, 2, &lp);
  const size_t init = start_position(luaL_optinteger(L, 3, 1), ls) - 1;
  if (init > ls) {
    lua_pushnil(L);
    return 1;
  }
  if (find && (lua_toboolean(L, 4) || !has_specials(p, lp))) {
    LuaBudget::of(L).charge(L, static_cast<int64_t>((ls - init) / 64));
    const void* at = lp == 0 ? s + init : memmem(s + init, ls - init, p, lp);
    if (!at) {
      lua_pushnil(L);
      return 1;
    }
    const auto first = static_cast<lua_Integer>(static_cast<const char*>(at) - s);
    lua_pushinteger(L, first + 1);
    lua_pushinteger(L, first + static_cast<lua_Integer>(lp));
    return 2;
  }
  Matcher m;
  prepare(m, L, s, ls, p, lp);
  const bool anchored = lp > 0 && *p == '^';
  if (anchored) ++p;
  const char* from = s + init;
  do {
    m.restart();
    if (const char* e = match(m, from, p)) {
      if (!find) return push_captures(m, from, e);
      lua_pushinteger(L, static_cast<lua_Integer>(from - s) + 1);
      lua_pushinteger(L, static_cast<lua_Integer>(e - s));
      return push_captures(m, nullptr, nullptr) + 2;
    }
  } while (from++ < m.subject_end && !anchored);
  lua_pushnil(L);
  return 1;
}

int bounded_find(lua_State* L) { return find_or_match(L, true); }
int bounded_match(lua_State* L) { return find_or_match(L, false); }

// gmatch's iterator: upvalues are the subject, the pattern and where it is.
struct GmatchPosition {
  size_t next;
  ptrdiff_t last_end;  // where the last match ended, -1 before the first
};

int gmatch_step(lua_State* L) {
  size_t ls = 0, lp = 0;
  const char* s = lua_tolstring(L, lua_upvalueindex(1), &ls);
  const char* p = lua_tolstring(L, lua_upvalueindex(2), &lp);
  auto* at = static_cast<GmatchPosition*>(lua_touserdata(L, lua_upvalueindex(3)));
  Matcher m;
  prepare(m, L, s, ls, p, lp);
  for (const char* from = s + at->next; from <= m.subject_end; ++from) {
    m.restart();
    const char* e = match(m, from, p);
    if (e && e - s != at->last_end) {
      at->next = static_cast<size_t>(e - s);
      at->last_end = e - s;
      return push_captures(m, from, e);
    }
  }
  at->next = ls + 1;
  return 0;
}

int bounded_gmatch(lua_State* L) {
  size_t ls = 0;
  luaL_checklstring(L, 1, &ls);
  luaL_checkstring(L, 2);
  size_t init = start_position(luaL_optinteger(L, 3, 1), ls) - 1;
  if (init > ls) init = ls + 1;
  lua_settop(L, 2);
  auto* at = static_cast<GmatchPosition*>(lua_newuserdatauv(L, sizeof(GmatchPosition), 0));
  at->next = init;
  at->last_end = -1;
  lua_pushcclosure(L, gmatch_step, 3);
  return 1;
}

// A replacement string: %0 is the match, %1..%9 captures, %% a percent sign.
void add_replacement_text(Matcher& m, luaL_Buffer& b, const char* s, const char* e) {
  size_t length = 0;
  const char* text = lua_tolstring(m.L, 3, &length);
  const char* text_end = text + length;
  for (const char* c = text; c < text_end; ++c) {
    if (*c != '%') {
      luaL_addchar(&b, *c);
      continue;
    }
    ++c;
    if (c < text_end && *c == '%') {
      luaL_addchar(&b, '%');
    } else if (c < text_end && std::isdigit(byte(c))) {
      if (*c == '0') {
        luaL_addlstring(&b, s, static_cast<size_t>(e - s));
      } else {
        push_capture(m, *c - '1', s, e);
        luaL_tolstring(m.L, -1, nullptr);
        lua_remove(m.L, -2);
        luaL_addvalue(&b);
      }
    } else {
      luaL_error(m.L, "invalid use of '%c' in replacement string", '%');
    }
  }
}

void add_replacement(Matcher& m, luaL_Buffer& b, const char* s, const char* e, int kind) {
  lua_State* L = m.L;
  if (kind == LUA_TFUNCTION) {
    lua_pushvalue(L, 3);
    const int n = push_captures(m, s, e);
    lua_call(L, n, 1);
  } else if (kind == LUA_TTABLE) {
    push_capture(m, 0, s, e);
    lua_gettable(L, 3);
  } else {
    add_replacement_text(m, b, s, e);
    return;
  }
  if (!lua_toboolean(L, -1)) {  // nil or false: the match stays as it was
    lua_pop(L, 1);
    luaL_addlstring(&b, s, static_cast<size_t>(e - s));
  } else if (!lua_isstring(L, -1)) {
    luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
  } else {
    luaL_addvalue(&b);
  }
}

int bounded_gsub(lua_State* L) {
  size_t ls = 0, lp = 0;
  const char* s = luaL_checklstring(L, 1, &ls);
  const char* p = luaL_checklstring(L, 2, &lp);
  const int kind = lua_type(L, 3);
  const lua_Integer most = luaL_optinteger(L, 4, static_cast<lua_Integer>(ls) + 1);
  luaL_argexpected(L, kind == LUA_TNUMBER || kind == LUA_TSTRING || kind == LUA_TFUNCTION || kind == LUA_TTABLE, 3,
                   "string/function/table");
  const bool anchored = lp > 0 && *p == '^';
  if (anchored) {
    ++p;
    --lp;
  }
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  Matcher m;
  prepare(m, L, s, ls, p, lp);
  const char* from = s;
  const char* last_end = nullptr;
  lua_Integer replaced = 0;
  while (replaced < most) {
    m.restart();
    const char* e = match(m, from, p);
    if (e && e != last_end) {
      ++replaced;
      add_replacement(m, b, from, e, kind);
      from = last_end = e;
    } else if (from < m.subject_end) {
      luaL_addchar(&b, *from++);
    } else {
      break;
    }
    if (anchored) break;
  }
  luaL_addlstring(&b, from, static_cast<size_t>(m.subject_end - from));
  luaL_pushresult(&b);
  lua_pushinteger(L, replaced);
  return 2;
}

}  // namespace

void open_bounded_patterns(lua_State* L) {
  lua_getglobal(L, "string");
  const luaL_Reg functions[] = {{"find", bounded_find},
                                {"match", bounded_match},
                                {"gmatch", bounded_gmatch},
                                {"gsub", bounded_gsub},
                                {nullptr, nullptr}};
  luaL_setfuncs(L, functions, 0);
  lua_pop(L, 1);
}

}  // namespace sluice