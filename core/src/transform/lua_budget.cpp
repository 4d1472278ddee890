#include "transform/lua_budget.h"

#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

extern "C" {
#include <lauxlib.h>
}

namespace sluice {

namespace {

std::atomic<bool> g_interrupted{false};

int count_for(int64_t instructions) {
  return static_cast<int>(std::clamp<int64_t>(instructions, 1, INT32_MAX));
}

}  // namespace

// One thread for every state of the process: it wakes every kTick, looks at
// the states in a call and arms the hook of one whose call has lasted past
// its time budget (or of all, on a stop request). A call costs it nothing
// but two relaxed stores: it never reads a clock.
class LuaWatchdog {
 public:
  static LuaWatchdog& instance() {
    static LuaWatchdog watchdog;
    return watchdog;
  }
  void add(LuaBudget* budget) {
    std::lock_guard lock(mutex_);
    watched_.push_back({budget, 0, Clock::now()});
  }
  void remove(LuaBudget* budget) {
    std::lock_guard lock(mutex_);
    std::erase_if(watched_, [budget](const Watched& w) { return w.budget == budget; });
  }

 private:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds kTick{20};
  // How long after a stop request a call may go on waiting (its waits
  // return at once by then) before the stop ends it as its wait returns.
  static constexpr std::chrono::milliseconds kStopGrace{1000};
  struct Watched {
    LuaBudget* budget;
    uint64_t generation;  // the call seen last
    Clock::time_point since;  // when it was first seen
  };

  // The thread takes no signals: it may be started before the process sets
  // up its signal handling (SIGTERM is waited for by one thread, blocked in
  // all others), and a signal delivered here would kill the process.
  LuaWatchdog() {
    sigset_t all, before;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &before);
    thread_ = std::thread([this] { loop(); });
    pthread_sigmask(SIG_SETMASK, &before, nullptr);
  }
  ~LuaWatchdog() {
    {
      std::lock_guard lock(mutex_);
      quit_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

  void loop() {
    std::unique_lock lock(mutex_);
    while (!quit_) {
      wake_.wait_for(lock, kTick);
      const auto now = Clock::now();
      const bool stop = LuaBudget::interrupted();
      if (stop && !stop_seen_) stop_seen_ = now;
      const bool stop_is_old = stop && now - *stop_seen_ >= kStopGrace;
      for (Watched& w : watched_) {
        LuaBudget& b = *w.budget;
        const uint64_t generation = b.generation_.load(std::memory_order_relaxed);
        // A wait is not the script's time, until a stop is kStopGrace old: a
        // script that loops on waits which return at once after the stop
        // spends nearly every tick inside one (a checkpoint's fsync), and its
        // call keeps its generation through them.
        if (generation != w.generation || (!b.in_call_.load(std::memory_order_relaxed) && !stop_is_old)) {
          w.generation = generation;
          w.since = now;
          continue;
        }
        // A stop ends a call that has run for a tick at least: one that is
        // stuck, not the many short ones that finish the batch in hand. One
        // that is waiting ends as its wait returns (end_wait).
        if (stop) b.stopped_generation_.store(generation, std::memory_order_relaxed);
        else if (now - w.since >= b.time_budget()) b.expired_generation_.store(generation, std::memory_order_relaxed);
        else continue;
        // lua_sethook is the one call Lua allows from outside the running
        // thread (as from a signal handler); the state stays alive while
        // registered, and detach() waits for this lock. The line event is
        // what makes it fire: the running thread decrements its count on
        // every instruction and may write back over the count set here, but
        // it never writes the mask, and a loop's backward jump is a line event.
        if (b.in_call_.load(std::memory_order_relaxed) && !b.poked_.exchange(true))
          lua_sethook(b.main_, &LuaBudget::hook, LUA_MASKCOUNT | LUA_MASKLINE, 1);
      }
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Watched> watched_;
  bool quit_ = false;
  std::optional<Clock::time_point> stop_seen_;  // the first tick after the stop request
  std::thread thread_;
};

void LuaBudget::attach(lua_State* main) {
  main_ = main;
  *static_cast<LuaBudget**>(lua_getextraspace(main)) = this;  // new threads copy it
  LuaWatchdog::instance().add(this);
  registered_ = true;
}

void LuaBudget::detach() {
  if (!registered_) return;
  LuaWatchdog::instance().remove(this);
  registered_ = false;
}

void LuaBudget::interrupt_all() { g_interrupted.store(true); }
bool LuaBudget::interrupted() { return g_interrupted.load(std::memory_order_relaxed); }

void LuaBudget::arm(lua_State* thread, int count) const { lua_sethook(thread, &LuaBudget::hook, LUA_MASKCOUNT, count); }

void LuaBudget::begin_call() {
  trip_ = BudgetTrip::none;
  charged_ = 0;
  poked_.store(false, std::memory_order_relaxed);
  generation_.store(generation_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  in_call_.store(true, std::memory_order_relaxed);
  arm(main_, count_for(limits_.instructions));
}

void LuaBudget::end_call() {
  in_call_.store(false, std::memory_order_relaxed);
  lua_sethook(main_, nullptr, 0, 0);
}

void LuaBudget::begin_wait() { in_call_.store(false, std::memory_order_relaxed); }

// A new generation: the watchdog times the rest of the call from here. Not
// after a stop request: the call keeps its generation, so the watchdog ends
// it even when the script goes on waiting in a loop (each wait returning at
// once), whatever its instruction budget: a tick later if it is caught
// running, else once the stop is kStopGrace old, as a wait returns.
void LuaBudget::end_wait(lua_State* L, bool renew) {
  if (renew && trip_ == BudgetTrip::none) {
    charged_ = 0;
    arm(main_, count_for(limits_.instructions));
  }
  if (!interrupted()) generation_.store(generation_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  in_call_.store(true, std::memory_order_relaxed);
  // Stopped while it waited: the watchdog did not poke a call that was not
  // running, so the script's next instruction raises from here.
  if (interrupted() && flagged()) arm(L, 1);
}

void LuaBudget::trip(BudgetTrip why) {
  if (trip_ == BudgetTrip::none) trip_ = why;
}

bool LuaBudget::flagged() {
  const uint64_t current = generation_.load(std::memory_order_relaxed);
  if (stopped_generation_.load(std::memory_order_relaxed) == current) {
    trip(BudgetTrip::stopped);
    return true;
  }
  if (expired_generation_.load(std::memory_order_relaxed) == current) {
    trip(BudgetTrip::time);
    return true;
  }
  return false;
}

bool LuaBudget::must_stop() {
  if (trip_ == BudgetTrip::none) flagged();
  return trip_ != BudgetTrip::none;
}

bool LuaBudget::spend(int64_t units) {
  charged_ = units > INT64_MAX - charged_ ? INT64_MAX : charged_ + units;
  if (charged_ > limits_.instructions) trip(BudgetTrip::instructions);
  return !must_stop();
}

void LuaBudget::charge(lua_State* L, int64_t units) {
  if (!spend(units)) raise(L);
}

void LuaBudget::memory_exhausted() {
  trip(BudgetTrip::memory);
  if (main_) arm(main_, 1);
}

void LuaBudget::adopt_thread(lua_State* thread) { arm(thread, trip_ != BudgetTrip::none ? 1 : kThreadBlock); }

std::string LuaBudget::trip_message() const {
  switch (trip_) {
    case BudgetTrip::instructions:
      return "instruction budget exceeded (" + std::to_string(limits_.instructions) +
             " instructions per call; an endless loop?)";
    case BudgetTrip::time:
      return "time budget exceeded (" + std::to_string(time_budget().count()) +
             " ms per call; stuck in a library function?)";
    case BudgetTrip::memory:
      return "memory limit exceeded (" + std::to_string(limits_.memory_bytes >> 20) + " MB per Lua state)";
    case BudgetTrip::stopped:
      return "stopped while the script ran (a stop was requested)";
    case BudgetTrip::none:
      break;
  }
  return "";
}

void LuaBudget::raise(lua_State* L, lua_Debug* ar) {
  // From now on every instruction of the call raises, whichever thread runs it.
  arm(L, 1);
  if (L != main_) arm(main_, 1);
  char text[200];
  {
    const std::string message = trip_message();  // gone before lua_error jumps
    std::snprintf(text, sizeof text, "%s", message.c_str());
  }
  // luaL_where does not see the interrupted function from inside a hook; ar does.
  if (ar && lua_getinfo(L, "Sl", ar) && ar->currentline > 0)
    lua_pushfstring(L, "%s:%d: %s", ar->short_src, ar->currentline, text);
  else if (ar)
    lua_pushstring(L, text);
  else {
    luaL_where(L, 1);
    lua_pushstring(L, text);
    lua_concat(L, 2);
  }
  lua_error(L);
  __builtin_unreachable();
}

void LuaBudget::hook(lua_State* L, lua_Debug* ar) {
  LuaBudget& b = of(L);
  if (b.trip_ == BudgetTrip::none && !b.flagged()) {
    if (L == b.main_) {
      if (b.poked_.exchange(false) || ar->event == LUA_HOOKLINE) {
        // Armed by the watchdog for a call that has ended since: count on.
        // (The count restarts here, the one case where it is not exact.)
        b.arm(L, count_for(b.limits_.instructions));
        return;
      }
      b.trip(BudgetTrip::instructions);
    } else {
      if (lua_gethookcount(L) != kThreadBlock) {  // left raising by an earlier call
        b.arm(L, kThreadBlock);
        return;
      }
      b.charged_ += kThreadBlock;
      if (b.charged_ <= b.limits_.instructions) return;
      b.trip(BudgetTrip::instructions);
    }
  }
  b.raise(L, ar);
}

}  // namespace sluice
