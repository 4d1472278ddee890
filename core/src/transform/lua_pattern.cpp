#include "transform/lua_pattern.h"

#include <cctype>
#include <cstddef>
#include <cstring>

extern "C" {
#include <lauxlib.h>
}

#include "transform/lua_budget.h"

// Everything here may raise a Lua error (longjmp): no object with a
// destructor lives in these frames.

namespace sluice {

namespace {

constexpr int kMaxCaptures = 32;  // LUA_MAXCAPTURES, private to the library
constexpr int kMaxDepth = 200;            // nested match calls, as the library allows
constexpr ptrdiff_t kOpenCapture = -1;    // a capture whose ')' is not reached yet
constexpr ptrdiff_t kPositionCapture = -2;  // ()
constexpr unsigned kStepsPerCharge = 256;
constexpr int64_t kInstructionsPerCharge = 64;  // four steps of a match for an instruction
constexpr char kSpecials[] = "^$*+?.([%-";

unsigned char byte(const char* p) { return static_cast<unsigned char>(*p); }

struct Matcher {
  lua_State* L;
  LuaBudget* budget;
  const char* subject;  // its first byte
  const char* subject_end;
  const char* pattern_end;
  int depth;
  int level;  // captures opened
  unsigned steps;
  struct {
    const char* start;
    ptrdiff_t length;
  } capture[kMaxCaptures];

  void restart() {
    level = 0;
    depth = kMaxDepth;
  }
  void step() {
    if (++steps == kStepsPerCharge) {
      steps = 0;
      budget->charge(L, kInstructionsPerCharge);
    }
  }
};

// The end of the single-character class starting at `p`.
const char* class_end(Matcher& m, const char* p) {
  const char c = *p++;
  if (c == '%') {
    if (p == m.pattern_end) luaL_error(m.L, "malformed pattern (ends with '%%')");
    return p + 1;
  }
  if (c == '[') {
    if (*p == '^') ++p;
    // The first character of a set is a member even when it is ']'.
    do {
      if (p == m.pattern_end) luaL_error(m.L, "malformed pattern (missing ']')");
      const char member = *p++;
      if (member == '%' && p < m.pattern_end) ++p;
    } while (*p != ']');
    return p + 1;
  }
  return p;
}

bool in_class(int c, int class_letter) {
  bool in;
  switch (std::tolower(class_letter)) {
    case 'a': in = std::isalpha(c); break;
    case 'c': in = std::iscntrl(c); break;
    case 'd': in = std::isdigit(c); break;
    case 'g': in = std::isgraph(c); break;
    case 'l': in = std::islower(c); break;
    case 'p': in = std::ispunct(c); break;
    case 's': in = std::isspace(c); break;
    case 'u': in = std::isupper(c); break;
    case 'w': in = std::isalnum(c); break;
    case 'x': in = std::isxdigit(c); break;
    case 'z': in = c == 0; break;  // deprecated, still understood by the library
    default: return class_letter == c;  // %. and the like: the character itself
  }
  return std::isupper(class_letter) ? !in : in;
}

// `open` at the set's '[', `close` at its ']'.
bool in_set(int c, const char* open, const char* close) {
  const char* p = open + 1;
  bool wanted = true;
  if (*p == '^') {
    wanted = false;
    ++p;
  }
  for (; p < close; ++p) {
    if (*p == '%') {
      ++p;
      if (in_class(c, byte(p))) return wanted;
    } else if (p[1] == '-' && p + 2 < close) {
      if (byte(p) <= c && c <= byte(p + 2)) return wanted;
      p += 2;
    } else if (byte(p) == c) {
      return wanted;
    }
  }
  return !wanted;
}

bool single_match(const Matcher& m, const char* s, const char* p, const char* class_stop) {
  if (s >= m.subject_end) return false;
  const int c = byte(s);
  switch (*p) {
    case '.': return true;
    case '%': return in_class(c, byte(p + 1));
    case '[': return in_set(c, p, class_stop - 1);
    default: return byte(p) == c;
  }
}

const char* match(Matcher& m, const char* s, const char* p);

const char* longest_first(Matcher& m, const char* s, const char* p, const char* class_stop) {
  ptrdiff_t n = 0;
  while (single_match(m, s + n, p, class_stop)) {
    m.step();
    ++n;
  }
  for (; n >= 0; --n)
    if (const char* end = match(m, s + n, class_stop + 1)) return end;
  return nullptr;
}

const char* shortest_first(Matcher& m, const char* s, const char* p, const char* class_stop) {
  for (;;) {
    if (const char* end = match(m, s, class_stop + 1)) return end;
    if (!single_match(m, s, p, class_stop)) return nullptr;
    ++s;
  }
}

const char* open_capture(Matcher& m, const char* s, const char* p, ptrdiff_t kind) {
  if (m.level >= kMaxCaptures) luaL_error(m.L, "too many captures");
  m.capture[m.level].start = s;
  m.capture[m.level].length = kind;
  ++m.level;
  const char* end = match(m, s, p);
  if (!end) --m.level;
  return end;
}

const char* close_capture(Matcher& m, const char* s, const char* p) {
  int open = m.level - 1;
  while (open >= 0 && m.capture[open].length != kOpenCapture) --open;
  if (open < 0) luaL_error(m.L, "invalid pattern capture");
  m.capture[open].length = s - m.capture[open].start;
  const char* end = match(m, s, p);
  if (!end) m.capture[open].length = kOpenCapture;
  return end;
}

// %bxy at `p` (pointing at x).
const char* balanced(Matcher& m, const char* s, const char* p) {
  if (p + 1 >= m.pattern_end) luaL_error(m.L, "malformed pattern (missing arguments to '%%b')");
  if (s >= m.subject_end || *s != *p) return nullptr;
  const char opening = p[0], closing = p[1];
  int depth = 1;
  while (++s < m.subject_end) {
    m.step();
    if (*s == closing) {
      if (--depth == 0) return s + 1;
    } else if (*s == opening) {
      ++depth;
    }
  }
  return nullptr;
}

int capture_index(Matcher& m, int digit) {
  const int index = digit - '1';
  if (index < 0 || index >= m.level || m.capture[index].length == kOpenCapture)
    luaL_error(m.L, "invalid capture index %%%d", index + 1);
  return index;
}

// %1 .. %9: the text of an earlier capture again.
const char* same_as_capture(Matcher& m, const char* s, int digit) {
  const int index = capture_index(m, digit);
  const ptrdiff_t length = m.capture[index].length;
  if (length < 0 || m.subject_end - s < length) return nullptr;
  return std::memcmp(m.capture[index].start, s, static_cast<size_t>(length)) == 0 ? s + length : nullptr;
}

// The end of the match of pattern `p` at `s`, or null.
const char* match(Matcher& m, const char* s, const char* p) {
  if (m.depth-- == 0) luaL_error(m.L, "pattern too complex");
  const char* end = nullptr;
  for (;;) {
    m.step();
    if (p == m.pattern_end) {
      end = s;
      break;
    }
    if (*p == '(') {
      end = p[1] == ')' ? open_capture(m, s, p + 2, kPositionCapture) : open_capture(m, s, p + 1, kOpenCapture);
      break;
    }
    if (*p == ')') {
      end = close_capture(m, s, p + 1);
      break;
    }
    if (*p == '$' && p + 1 == m.pattern_end) {
      end = s == m.subject_end ? s : nullptr;
      break;
    }
    if (*p == '%' && p[1] == 'b') {
      s = balanced(m, s, p + 2);
      if (!s) break;
      p += 4;
      continue;
    }
    if (*p == '%' && p[1] == 'f') {
      p += 2;
      if (*p != '[') luaL_error(m.L, "missing '[' after '%%f' in pattern");
      const char* set_end = class_end(m, p);
      const int before = s == m.subject ? '\0' : byte(s - 1);
      const int at = s < m.subject_end ? byte(s) : '\0';
      if (in_set(before, p, set_end - 1) || !in_set(at, p, set_end - 1)) break;
      p = set_end;
      continue;
    }
    if (*p == '%' && std::isdigit(byte(p + 1))) {
      s = same_as_capture(m, s, byte(p + 1));
      if (!s) break;
      p += 2;
      continue;
    }
    const char* stop = class_end(m, p);
    const char suffix = stop < m.pattern_end ? *stop : '\0';
    if (!single_match(m, s, p, stop)) {
      if (suffix == '*' || suffix == '?' || suffix == '-') {  // may match nothing
        p = stop + 1;
        continue;
      }
      break;
    }
    if (suffix == '?') {
      if ((end = match(m, s + 1, stop + 1))) break;
      p = stop + 1;
      continue;
    }
    if (suffix == '+') {
      end = longest_first(m, s + 1, p, stop);
      break;
    }
    if (suffix == '*') {
      end = longest_first(m, s, p, stop);
      break;
    }
    if (suffix == '-') {
      end = shortest_first(m, s, p, stop);
      break;
    }
    ++s;
    p = stop;
  }
  ++m.depth;
  return end;
}

void push_capture(Matcher& m, int i, const char* s, const char* e) {
  if (i >= m.level) {
    if (i != 0) luaL_error(m.L, "invalid capture index %%%d", i + 1);
    lua_pushlstring(m.L, s, static_cast<size_t>(e - s));  // no captures: the whole match
    return;
  }
  const ptrdiff_t length = m.capture[i].length;
  if (length == kOpenCapture) luaL_error(m.L, "unfinished capture");
  if (length == kPositionCapture)
    lua_pushinteger(m.L, static_cast<lua_Integer>(m.capture[i].start - m.subject) + 1);
  else
    lua_pushlstring(m.L, m.capture[i].start, static_cast<size_t>(length));
}

// The captures (or the whole match, when there are none and `s` is given).
int push_captures(Matcher& m, const char* s, const char* e) {
  const int n = (m.level == 0 && s) ? 1 : m.level;
  luaL_checkstack(m.L, n, "too many captures");
  for (int i = 0; i < n; ++i) push_capture(m, i, s, e);
  return n;
}

void prepare(Matcher& m, lua_State* L, const char* s, size_t ls, const char* p, size_t lp) {
  m.L = L;
  m.budget = &LuaBudget::of(L);
  m.subject = s;
  m.subject_end = s + ls;
  m.pattern_end = p + lp;
  m.steps = 0;
  m.restart();
}

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
