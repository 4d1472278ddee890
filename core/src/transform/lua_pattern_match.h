// The matcher behind sluice's string.find/match/gmatch/gsub (lua_pattern.h):
// Lua's pattern language, the library's semantics, every step charged to the
// call's budget. Everything here may raise a Lua error (longjmp): no object
// with a destructor may live in a caller's frame across these calls.
#pragma once

#include <cstddef>
#include <cstdint>

extern "C" {
#include <lua.h>
}

namespace sluice {

class LuaBudget;

inline constexpr int kMaxCaptures = 32;  // LUA_MAXCAPTURES, private to the library
inline constexpr int kMaxMatchDepth = 200;  // nested match calls, as the library allows

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
    depth = kMaxMatchDepth;
  }
  void step();
};

// Sets `m` up for subject `s` and pattern `p` (without a leading '^' the
// caller handled) in state L.
void prepare(Matcher& m, lua_State* L, const char* s, size_t ls, const char* p, size_t lp);

// The end of the match of pattern `p` at `s`, or null; captures in `m`.
const char* match(Matcher& m, const char* s, const char* p);

// Pushes capture `i` (the whole match s..e when there are no captures).
void push_capture(Matcher& m, int i, const char* s, const char* e);
// Pushes the captures (or the whole match, when there are none and `s` is given).
int push_captures(Matcher& m, const char* s, const char* e);

}  // namespace sluice
