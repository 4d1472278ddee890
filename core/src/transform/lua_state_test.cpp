#include "transform/lua_state.h"

#include <gtest/gtest.h>

extern "C" {
#include <lauxlib.h>
}

#include "transform/test_scripts.h"

namespace sluice {
namespace {

// Runs `code` as a script's top level; returns "" or the error.
std::string run_top_level(const std::string& code, const std::string& module_dir = {}) {
  testing::ScriptDir dir;
  LuaState lua({1'000'000, 16u << 20}, module_dir.empty() ? dir.path() : module_dir);
  std::string error;
  if (!lua.load_script(dir.write("s.lua", code), "s.lua", error)) return error;
  lua_pop(lua.get(), 1);
  return "";
}

class Forbidden : public ::testing::TestWithParam<std::pair<const char*, const char*>> {};

TEST_P(Forbidden, FailsWithAClearMessage) {
  auto [code, expected] = GetParam();
  std::string error = run_top_level(code);
  EXPECT_NE(error.find(expected), std::string::npos) << code << " -> " << error;
}

INSTANTIATE_TEST_SUITE_P(
    Sandbox, Forbidden,
    ::testing::Values(
        std::pair{"os.execute('true')", "os.execute is not available in the sluice sandbox"},
        std::pair{"os.exit(1)", "os.exit is not available"},
        std::pair{"os.getenv('HOME')", "os.getenv is not available"},
        std::pair{"os.remove('/tmp/x')", "os.remove is not available"},
        std::pair{"io.open('/etc/passwd')", "io.open is not available in the sluice sandbox"},
        std::pair{"io.write('x')", "io.write is not available"},
        std::pair{"loadfile('/etc/passwd')", "loadfile is not available"},
        std::pair{"dofile('/etc/passwd')", "dofile is not available"},
        std::pair{"debug.getinfo(1)", "debug.getinfo is not available"},
        std::pair{"package.loadlib('x.so', 'f')", "package.loadlib is not available"},
        std::pair{"string.dump(function() end)", "string.dump is not available"},
        std::pair{"load('\\27Lua', 'x', 'b')", "only text chunks"},
        std::pair{"assert(load('\\27Lua'))", "attempt to load a binary chunk"},
        std::pair{"require('os')", "cannot open"},
        std::pair{"require('../etc/passwd')", "is not a module name"},
        std::pair{"require('a/b')", "is not a module name"},
        std::pair{"collectgarbage('stop')", "collectgarbage(\"stop\") is not available"}));

TEST(Sandbox, TypeAndMathTypeAnswerAsTheLibraryDoes) {
  EXPECT_EQ(run_top_level("assert(type(nil) == 'nil') assert(type(true) == 'boolean') "
                          "assert(type(1) == 'number') assert(type(1.5) == 'number') assert(type('x') == 'string') "
                          "assert(type({}) == 'table') assert(type(print) == 'function') "
                          "assert(type(function() end) == 'function') assert(type(sluice.null) == 'userdata') "
                          "assert(type(coroutine.create(print)) == 'thread') "
                          "assert(math.type(1) == 'integer') assert(math.type(1.0) == 'float') "
                          "assert(math.type(2^53) == 'float') assert(math.type('1') == nil) "
                          "assert(math.type(nil) == nil) assert(select('#', math.type({})) == 1)"),
            "");
  EXPECT_NE(run_top_level("type()").find("bad argument #1 to 'type' (value expected)"), std::string::npos);
  EXPECT_NE(run_top_level("math.type()").find("bad argument #1 to 'type' (value expected)"), std::string::npos);
}

TEST(Sandbox, TheRawFunctionsNameThemselvesInArgumentErrors) {
  const std::pair<const char*, const char*> cases[] = {
      {"next(5)", "bad argument #1 to 'next' (table expected, got number)"},
      {"rawget('x', 1)", "bad argument #1 to 'rawget' (table expected, got string)"},
      {"rawget({})", "bad argument #2 to 'rawget' (value expected)"},
      {"rawset({}, 1)", "bad argument #3 to 'rawset' (value expected)"},
      {"rawlen(1)", "bad argument #1 to 'rawlen' (table or string expected, got number)"},
      {"getmetatable()", "bad argument #1 to 'getmetatable' (value expected)"},
      {"setmetatable({}, 5)", "bad argument #2 to 'setmetatable' (nil or table expected, got number)"}};
  for (const auto& [code, expected] : cases)
    EXPECT_NE(run_top_level(code).find(expected), std::string::npos) << code << " -> " << run_top_level(code);
  EXPECT_EQ(run_top_level("local t = setmetatable({}, {}) rawset(t, 'a', 1) assert(rawget(t, 'a') == 1) "
                          "assert(rawlen(t) == 0 and rawlen('ab') == 2) assert(next({}) == nil) "
                          "assert(getmetatable('').__index == string)"),
            "");
}

TEST(Sandbox, WhatStaysWorks) {
  EXPECT_EQ(run_top_level("assert(type(os.time()) == 'number') assert(os.date('!%Y', 0) == '1970') "
                          "assert(os.clock() >= 0) assert(load('return 1 + 1')() == 2) "
                          "assert(string.format('%d', 3) == '3') assert(math.maxinteger == 9223372036854775807) "
                          "assert(utf8.len('é') == 1) assert(sluice.null ~= nil) "
                          "assert(collectgarbage('count') > 0) collectgarbage()"),
            "");
}

TEST(Sandbox, RequireLoadsFromTheTransformsPathOnce) {
  testing::ScriptDir modules;
  modules.write("helper.lua", "count = (count or 0) + 1 return {double = function(x) return 2 * x end, count = count}");
  EXPECT_EQ(run_top_level("local h = require('helper') assert(h.double(21) == 42) "
                          "assert(require('helper') == h)",
                          modules.path()),
            "");
}

TEST(Sandbox, CompileErrorHasFileAndLine) {
  std::string error = run_top_level("local x = \n\nif then");
  EXPECT_EQ(error.rfind("s.lua:3:", 0), 0u) << error;
}

TEST(Limits, InstructionBudgetStopsAnEndlessLoop) {
  std::string error = run_top_level("while true do end");
  EXPECT_NE(error.find("instruction budget exceeded"), std::string::npos) << error;
}

TEST(Limits, InstructionBudgetCountsInsideLibraryCallbacks) {
  std::string error = run_top_level("string.gsub(string.rep('a', 10), 'a', function() while true do end end)");
  EXPECT_NE(error.find("instruction budget exceeded"), std::string::npos) << error;
}

TEST(Limits, MemoryCapStopsARunawayAllocation) {
  std::string error = run_top_level("local t = {} for i = 1, 64 do t[i] = string.rep('x', 1024 * 1024) .. i end");
  EXPECT_NE(error.find("memory limit exceeded"), std::string::npos) << error;
  error = run_top_level("local s = string.rep('x', 100 * 1024 * 1024)");
  EXPECT_NE(error.find("memory limit exceeded"), std::string::npos) << error;
}

}  // namespace
}  // namespace sluice
