// Scripts that try to get past a limit: each must end as an error naming it.
#include "transform/lua_budget.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "transform/lua_state.h"
#include "transform/test_scripts.h"

extern "C" {
#include <lauxlib.h>
}

namespace sluice {
namespace {

// Runs `code` as a script's top level under `limits`; returns "" or the error.
std::string run_under(const std::string& code, TransformLimits limits, size_t* peak = nullptr) {
  testing::ScriptDir dir;
  LuaState lua(limits, dir.path());
  std::string error;
  const bool loaded = lua.load_script(dir.write("s.lua", code), "s.lua", error);
  if (peak) *peak = lua.memory_peak();
  if (!loaded) return error;
  lua_pop(lua.get(), 1);
  return "";
}

constexpr TransformLimits kSmall{1'000'000, 16u << 20};

class Escape : public ::testing::TestWithParam<std::pair<const char*, const char*>> {};

TEST_P(Escape, EndsWithTheLimitsError) {
  auto [code, expected] = GetParam();
  // Stopped by the count or the cap (the reason says which), not by the clock.
  std::string error = run_under(code, kSmall);
  EXPECT_NE(error.find(expected), std::string::npos) << code << " -> " << error;
}

INSTANTIATE_TEST_SUITE_P(
    Budget, Escape,
    ::testing::Values(
        // The error is caught, and caught again: every later instruction raises too.
        std::pair{"while true do pcall(function() while true do end end) end", "instruction budget exceeded"},
        std::pair{"while true do xpcall(function() while true do end end, function(e) return e end) end",
                  "instruction budget exceeded"},
        std::pair{"while true do pcall(coroutine.wrap(function() while true do end end)) end",
                  "instruction budget exceeded"},
        std::pair{"while true do coroutine.resume(coroutine.create(function() while true do end end)) end",
                  "instruction budget exceeded"},
        std::pair{"coroutine.wrap(function() while true do pcall(function() while true do end end) end end)()",
                  "instruction budget exceeded"},
        std::pair{"local t = setmetatable({}, {__close = function() while true do end end}) "
                  "while true do pcall(function() local x <close> = t while true do end end) end",
                  "instruction budget exceeded"},
        // Coroutines do not each get a budget of their own.
        std::pair{"for j = 1, 1e9 do coroutine.wrap(function() for i = 1, 900000 do end end)() end",
                  "instruction budget exceeded"},
        // Work done inside library functions is charged.
        std::pair{"string.find(string.rep('a', 40) .. 'b', ('a*'):rep(20) .. 'c')", "instruction budget exceeded"},
        std::pair{"string.match(string.rep('a', 40), ('(a-)'):rep(12) .. 'b')", "instruction budget exceeded"},
        std::pair{"string.gsub(string.rep('a', 40), ('a?'):rep(30) .. ('a'):rep(30) .. 'x', '')",
                  "instruction budget exceeded"},
        std::pair{"for m in string.gmatch(string.rep('a', 40), ('a*'):rep(15) .. 'b') do end",
                  "instruction budget exceeded"},
        std::pair{"local s = string.rep('ab', 1e6) for i = 1, 1e9 do string.find(s, 'abb', 1, true) end",
                  "instruction budget exceeded"},
        std::pair{"table.move({}, 1, 2^52, 2)", "instruction budget exceeded"},
        std::pair{"table.concat({}, '', 1, 2^52)", "instruction budget exceeded"},
        std::pair{"local s = string.rep('', 2^62) assert(s == '') string.rep('x', 2^40)", "memory limit exceeded"},
        std::pair{"while true do pcall(string.rep, 'x', 2^40) end", "memory limit exceeded"},
        std::pair{"local t = {} for i = 1, 45 do t = {t, t} end sluice.json.encode(t)", "instruction budget exceeded"},
        // A finalizer would run with hooks off, beyond every budget: there are none.
        std::pair{"setmetatable({}, {__gc = function() while true do end end})",
                  "__gc finalizers are not available in the sluice sandbox"},
        std::pair{"getmetatable(sluice.array({})).__gc = function() while true do end end", "read-only"},
        std::pair{"rawset(getmetatable(sluice.array({})), '__gc', print)", "read-only"}));

TEST(Budget, AJsonBombEndsOnTheMemoryCap) {
  // 2^45 values: past the cap long before the count (here) would end it.
  for (const char* code : {"local t = {} for i = 1, 45 do t = {t, t} end sluice.json.encode(t)",
                           "local t = {} for i = 1, 45 do t = {a = t, b = t} end "
                           "while true do pcall(sluice.json.encode, t) end"}) {
    std::string error = run_under(code, {1'000'000'000'000, 16u << 20});
    EXPECT_NE(error.find("memory limit exceeded (16 MB per Lua state)"), std::string::npos) << code << " -> " << error;
  }
}

TEST(Budget, TheReasonNamesWhereTheScriptWas) {
  std::string error = run_under("local n = 0\nwhile true do\n  pcall(function() while true do n = n + 1 end end)\nend", kSmall);
  EXPECT_EQ(error.rfind("s.lua:", 0), 0u) << error;
  EXPECT_NE(error.find("instruction budget exceeded (1000000 instructions per call"), std::string::npos) << error;
}

TEST(Budget, TheTimeBudgetEndsWhatTheCountWouldNot) {
  const auto started = std::chrono::steady_clock::now();
  std::string error = run_under("while true do end", {1'000'000'000'000, 16u << 20, std::chrono::milliseconds(200)});
  EXPECT_NE(error.find("time budget exceeded (200 ms per call"), std::string::npos) << error;
  // The count alone would take hours.
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(60));
}

TEST(Budget, AScriptWithinItsBudgetIsNotStopped) {
  // Coroutines, patterns and library calls that stay well inside the budget.
  EXPECT_EQ(run_under("local total = 0 for i = 1, 200 do local co = coroutine.wrap(function(a) "
                      "local b = coroutine.yield(a + 1) return b * 2 end) total = total + co(i) + co(3) end "
                      "assert(total == 200 * 7 + 100 * 201) "
                      "assert(select(2, string.gsub(string.rep('ab', 1000), 'b', 'c')) == 1000) "
                      "assert(table.concat({1, 2, 3}, ',') == '1,2,3') assert(string.rep('ab', 3, '-') == 'ab-ab-ab') "
                      "local t = {} for i = 1, 1000 do t[i] = 1000 - i end table.sort(t) assert(t[1] == 0) "
                      "assert(#sluice.json.encode({a = string.rep('x', 1000)}) == 1008)",
                      kSmall),
            "");
}

TEST(Budget, TheHeapNeverHoldsMoreThanTheCap) {
  const size_t cap = 8u << 20;
  const char* hogs[] = {
      "local t = {} for i = 1, 1e9 do t[i] = i end",
      "local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 1000) .. i end",
      "local s = 'x' while true do s = s .. s end",
      "local t = {} for i = 1, 1e6 do t[i] = string.rep('y', 100) end local s = table.concat(t)",
      "local s = string.rep('a', 4e6) local r = s:gsub('a', 'bb')",
      "local t = {} for i = 1, 1e9 do t[i] = coroutine.create(print) end",
      "local t = {} for i = 1, 22 do t = {t, t} end local s = sluice.json.encode(t)",
      "local parts = {} for i = 1, 1e9 do parts[#parts + 1] = sluice.json.encode({i, string.rep('z', 200)}) end",
  };
  for (const char* hog : hogs) {
    size_t peak = 0;
    std::string error = run_under(hog, {1'000'000'000, cap}, &peak);
    EXPECT_NE(error.find("memory limit exceeded"), std::string::npos) << hog << " -> " << error;
    EXPECT_LE(peak, cap) << hog;
  }
}

// A stop request is process-wide: it is tried in a process of its own.
TEST(BudgetDeathTest, AStopRequestEndsAStuckCall) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        // Requested before the call: it still ends once the call has lasted
        // a tick of the watchdog (a call that is not stuck is left to finish).
        LuaBudget::interrupt_all();
        std::string error = run_under("while true do pcall(function() while true do end end) end",
                                      {1'000'000'000'000, 16u << 20, std::chrono::hours(1)});
        std::exit(error.find("stopped while the script ran") != std::string::npos ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

// A host function that waits as a Lua source's ctx.checkpoint does (its
// fsync): longer than a watchdog tick, most of the time the loop takes.
// Raises after `kMaxWaits`, so a stop that never ends the call fails the test.
constexpr int kMaxWaits = 200;
int g_waits = 0;
int wait_a_while(lua_State* L) {
  if (++g_waits > kMaxWaits) return luaL_error(L, "still running after %d waits", kMaxWaits);
  LuaBudget::of(L).begin_wait();
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  LuaBudget::of(L).end_wait(L, false);
  return 0;
}

std::string run_with_waits(const std::string& code) {
  testing::ScriptDir dir;
  LuaState lua({1'000'000'000'000, 16u << 20, std::chrono::hours(1)}, dir.path());
  lua_register(lua.get(), "wait_a_while", wait_a_while);
  std::string error;
  if (!lua.load_script(dir.write("s.lua", code), "s.lua", error)) return error;
  lua_pop(lua.get(), 1);
  return "";
}

TEST(BudgetDeathTest, AStopEndsACallThatLoopsOnWaits) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        LuaBudget::interrupt_all();
        std::string error = run_with_waits("while true do wait_a_while() end");
        std::exit(error.find("stopped while the script ran") != std::string::npos ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST(BudgetDeathTest, AStopLeavesACallThatWaitsAWhileAndReturnsToFinish) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        LuaBudget::interrupt_all();
        std::string error = run_with_waits("for i = 1, 3 do wait_a_while() end");
        std::exit(error.empty() ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace sluice
