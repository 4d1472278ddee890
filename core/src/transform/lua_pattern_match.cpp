#include "transform/lua_pattern_match.h"

#include <cctype>
#include <cstring>

extern "C" {
#include <lauxlib.h>
}

#include "transform/lua_budget.h"

namespace sluice {

namespace {

constexpr ptrdiff_t kOpenCapture = -1;    // a capture whose ')' is not reached yet
constexpr ptrdiff_t kPositionCapture = -2;  // ()
constexpr unsigned kStepsPerCharge = 256;
constexpr int64_t kInstructionsPerCharge = 64;  // four steps of a match for an instruction

unsigned char byte(const char* p) { return static_cast<unsigned char>(*p); }


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
}  // namespace

void Matcher::step() {
  if (++steps == kStepsPerCharge) {
    steps = 0;
    budget->charge(L, kInstructionsPerCharge);
  }
}

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

}  // namespace sluice
