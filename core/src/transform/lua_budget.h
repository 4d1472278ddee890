// The limits of one Lua state's calls, made hard: once a call runs out of
// instructions, time or memory (or a stop is requested), every instruction
// it still runs raises again, in every coroutine, so a script that catches
// the error (pcall, xpcall, a coroutine) only ends up back at the host.
//
// Instructions of the state's main thread are counted exactly by Lua's count
// hook, armed once per call at the full budget (no per-record cost). Work the
// hook cannot see is charged against the same budget by whoever does it:
// coroutines in blocks of kThreadBlock instructions, library functions by the
// size of what they work on (sluice's pattern matcher by its steps, the JSON
// encoder by its values), so each kind stays within the budget and the
// verdict for a record does not depend on the machine. Time is the backstop
// for what is not charged: a watchdog thread, shared by all states, notices a
// call that has run past its time budget (or a stop request) and arms the
// hook to fire at the next instruction; charged C loops poll the same flag.
// A stop request (interrupt_all) ends a stuck call the same way.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "transform/lua_limits.h"

extern "C" {
#include <lua.h>
}

namespace sluice {

enum class BudgetTrip : uint8_t { none, instructions, time, memory, stopped };

class LuaBudget {
 public:
  explicit LuaBudget(const TransformLimits& limits) : limits_(limits) {}
  LuaBudget(const LuaBudget&) = delete;
  LuaBudget& operator=(const LuaBudget&) = delete;
  ~LuaBudget() { detach(); }

  // Binds the budget to a state's main thread (through its extra space) and
  // registers it with the watchdog. detach() undoes it; it must run before
  // the state is closed, as the watchdog may set its hook.
  void attach(lua_State* main);
  void detach();

  // The budget of the state `L` (any of its threads) belongs to.
  static LuaBudget& of(lua_State* L) { return **static_cast<LuaBudget**>(lua_getextraspace(L)); }

  // Brackets one call (a script's function, or the host's own work in the
  // state): resets what the call may spend, arms the hook.
  void begin_call();
  void end_call();
  // Brackets host work a call waits on (a Lua source's HTTP request or
  // sleep): its wall-clock time is not the script's, so the watchdog does
  // not count it against the time budget, and a stop request does not end
  // the call while it waits (the host's wait ends at the stop by itself;
  // the script then has a tick of running to return). A call still under
  // way a second after the stop, waiting or not, ends as its wait returns.
  // `renew`: the rest of the call gets a whole instruction budget again (a
  // long-running script's budget is per slice between two waits). `L` is
  // the thread that waited.
  void begin_wait();
  void end_wait(lua_State* L, bool renew);

  // What ended the current (or last) call early.
  BudgetTrip trip() const { return trip_; }
  // The reason shown for a trip, e.g. "instruction budget exceeded (...)".
  std::string trip_message() const;

  // Charges `units` of work done by a library function; raises (a Lua
  // error, so only where one may be raised) when the call is over budget,
  // out of time or stopped.
  void charge(lua_State* L, int64_t units);
  // charge() for code that cannot raise: false when the call must end (the
  // trip is recorded; the caller fails and its caller raises).
  bool spend(int64_t units);
  // True when the current call must end: for code that cannot raise; the
  // trip is recorded and the caller is expected to fail.
  bool must_stop();
  // The heap ran out within the cap (after an emergency collection).
  void memory_exhausted();
  // Sets up a coroutine's hook, as the state's threads do not share a count.
  void adopt_thread(lua_State* thread);
  // Raises the trip's error in `L`, arming every thread to raise again.
  [[noreturn]] void raise(lua_State* L, lua_Debug* ar = nullptr);

  // A stop request: every state's call that is under way (for a tick of the
  // watchdog at least: a stuck one) ends at its next instruction, or at the
  // next check of a charged library function.
  static void interrupt_all();
  static bool interrupted();

  const TransformLimits& limits() const { return limits_; }
  std::chrono::milliseconds time_budget() const { return time_budget_for(limits_); }

  static constexpr int kThreadBlock = 1000;

 private:
  friend class LuaWatchdog;
  static void hook(lua_State* L, lua_Debug* ar);
  void arm(lua_State* thread, int count) const;
  void trip(BudgetTrip why);
  // Checks the watchdog's and the stop flags; records a trip they call for.
  bool flagged();

  TransformLimits limits_;
  lua_State* main_ = nullptr;
  BudgetTrip trip_ = BudgetTrip::none;
  int64_t charged_ = 0;  // this call's work charged by coroutines and library functions
  // Shared with the watchdog: which call is under way, and which call it found
  // past its time budget. poked_: the watchdog armed the hook (so a count
  // event may not be the budget's).
  std::atomic<uint64_t> generation_{0};
  std::atomic<bool> in_call_{false};
  std::atomic<uint64_t> expired_generation_{UINT64_MAX};  // none yet
  std::atomic<uint64_t> stopped_generation_{UINT64_MAX};
  std::atomic<bool> poked_{false};
  bool registered_ = false;
};

}  // namespace sluice
