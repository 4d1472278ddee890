// sluice's matcher against the library's own, on the same calls: every
// result, capture and error message must be the same.
#include "transform/lua_pattern.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

extern "C" {
#include <lauxlib.h>
#include <lualib.h>
}

#include "transform/lua_state.h"

namespace sluice {
namespace {

// Calls find, match, gmatch and gsub (with a string, a table and a function
// as replacement) and describes everything they returned or raised.
constexpr char kProbe[] = R"(
local function show(...)
  local n = select('#', ...)
  local parts = {}
  for i = 1, n do parts[i] = tostring((select(i, ...))) end
  return n .. ':' .. table.concat(parts, ',')
end
local function try(f, ...)
  local r = table.pack(pcall(f, ...))
  if not r[1] then return 'error ' .. tostring(r[2]) end
  return show(table.unpack(r, 2, r.n))
end
return function(s, p, init)
  local out = {}
  out[#out + 1] = try(string.find, s, p, init)
  out[#out + 1] = try(string.find, s, p, init, true)
  out[#out + 1] = try(string.match, s, p, init)
  out[#out + 1] = try(function()
    local all = {}
    for a, b in string.gmatch(s, p, init) do all[#all + 1] = tostring(a) .. '|' .. tostring(b) end
    return table.concat(all, ';')
  end)
  out[#out + 1] = try(string.gsub, s, p, '<%0>')
  out[#out + 1] = try(string.gsub, s, p, '[%1]')
  out[#out + 1] = try(string.gsub, s, p, '%%%2', 2)
  out[#out + 1] = try(string.gsub, s, p, {a = 'A', ab = false, [''] = 'E'})
  out[#out + 1] = try(string.gsub, s, p, function(a, b) if a == 'b' then return nil end return '(' .. tostring(a) .. tostring(b) .. ')' end)
  out[#out + 1] = try(string.gsub, s, p, 7)
  return table.concat(out, '\n')
end
)";

std::string probe(lua_State* L, const std::string& s, const std::string& p, int init) {
  if (luaL_loadstring(L, kProbe) != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK) return lua_tostring(L, -1);
  lua_pushlstring(L, s.data(), s.size());
  lua_pushlstring(L, p.data(), p.size());
  if (init) lua_pushinteger(L, init);
  else lua_pushnil(L);
  if (lua_pcall(L, 3, 1, 0) != LUA_OK) return std::string("probe failed: ") + lua_tostring(L, -1);
  std::string result = lua_tostring(L, -1);
  lua_pop(L, 1);
  return result;
}

struct Case {
  std::string subject, pattern;
  int init = 0;
};

TEST(Patterns, SameResultsAsTheLibrary) {
  std::unique_ptr<lua_State, void (*)(lua_State*)> library(luaL_newstate(), lua_close);
  luaL_openlibs(library.get());
  LuaState sandbox({1'000'000'000, 64u << 20}, "");
  lua_State* L = sandbox.get();
  const Case cases[] = {
      {"hello world", "o"}, {"hello world", "o", 6}, {"hello world", "o", -3}, {"hello world", "o", 100},
      {"hello world", "l+"}, {"hello world", "l*"}, {"hello world", "l-"}, {"hello world", "l?o"},
      {"hello world", "^h"}, {"hello world", "^e"}, {"hello world", "d$"}, {"hello world", "o$"},
      {"hello world", "(o)(r)"}, {"hello world", "()ll()"}, {"hello world", "(h)(e)(l)(l)(o)"},
      {"  trim me  ", "^%s*(.-)%s*$"}, {"key = value", "(%w+)%s*=%s*(%w+)"}, {"a,b,,c", "([^,]*)"},
      {"THE (quick) fox", "%((%a+)%)"}, {"f(a(b)c)d", "%b()"}, {"x[y]z", "%b[]"}, {"no close (", "%b()"},
      {"THE (quick) fox", "%f[%a]%a+"}, {"hello", "%f[%l]"}, {"aaa", "a-b"}, {"abcabc", "(abc)%1"},
      {"abab", "(a)(b)%2"}, {"", ""}, {"", "a*"}, {"abc", ""}, {"abc", ".-"}, {"abc", "x*"},
      {"a.b", "%."}, {"a%b", "%%"}, {"a]b", "[]]"}, {"a-b", "[a-]"}, {"a^b", "[%^]"}, {"a^b", "[^^]"},
      {"0x1F", "%x+"}, {"AbC", "%u"}, {"AbC", "%U"}, {"tab\there", "%c"}, {"p.u,n", "%p"}, {"a b", "%S+"},
      {"a1_b2", "[%w_]+"}, {"a1_b2", "[^%d]+"}, {"zebra", "[a-f]"}, {"Zebra", "[A-Z]%l*"},
      {std::string("a\0b", 3), std::string("\0", 1)}, {std::string("a\0b", 3), "%z"},
      {"caret^", "^^"}, {"x^y", "x^y"}, {"dollar$x", "$x"}, {"a(b", "("}, {"ab", "(()"},
      {"abc", "%"}, {"abc", "[a"}, {"abc", "[^"}, {"abc", "%b"}, {"abc", "%ba"}, {"abc", "%f"}, {"abc", "%fa"},
      {"abc", "%1"}, {"abc", "(a)%2"}, {"abc", "(a%1)"}, {"abc", "a)"}, {"abc", "(a"}, {"abc", "%0"},
      {"aaa", "(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)"},
      {"abc", std::string(300, '(')}, {"ab", "b"}, {"abab", "ab"}, {"one two  three", "%a+"},
      {"x=1, y=22", "(%w+)=(%w+)"}, {"abc", "()"}, {"hello", "l", -1}, {"hello", "", 10}, {"hello", "", 6},
      {"hello", "^", 3}, {"aXbXc", "X", -10}, {"[tag]", "%[(.-)%]"}, {"a+b", "a+b"}, {"a+b", "a%+b"},
      {"mississippi", "(ss)(i)"}, {"mississippi", "i(s*)"}, {"ümlaut", "[\x80-\xff]+"}, {"abc", "[%a-z]"},
      {"a-z", "[%a-z]"}, {"abc", "[b-]"}, {"2024-01-05T10:00:00Z", "^(%d+)-(%d+)-(%d+)T"},
  };
  for (const Case& c : cases) {
    const std::string expected = probe(library.get(), c.subject, c.pattern, c.init);
    EXPECT_EQ(probe(L, c.subject, c.pattern, c.init), expected)
        << "subject `" << c.subject << "` pattern `" << c.pattern << "` init " << c.init;
  }
}

}  // namespace
}  // namespace sluice
