#include "cli/signals.h"

#include <csignal>
#include <cstdlib>
#include <ctime>

#include <spdlog/spdlog.h>

#include "run/pipeline_runner.h"
#include "transform/lua_budget.h"

namespace sluice::cli {

namespace {
sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}
}  // namespace

SignalWatcher::SignalWatcher(StopSignal& stop)
    : SignalWatcher([&stop] { return stop.requested(); }, [&stop] { stop.request(); }) {}

SignalWatcher::SignalWatcher(std::function<bool()> stopping, std::function<void()> request) {
  sigset_t set = stop_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  thread_ = std::thread([this, stopping = std::move(stopping), request = std::move(request), set] {
    int received = 0;
    timespec tick{0, 100'000'000};
    while (!done_.load()) {
      siginfo_t info;
      if (sigtimedwait(&set, &info, &tick) < 0) continue;
      const char* name = info.si_signo == SIGINT ? "SIGINT" : "SIGTERM";
      if (++received == 1 && stopping()) {
        // Not a signal's stop: an error's, and it did not end the process.
        // Waiting for a clean stop that is already under way cannot help.
        spdlog::warn("{} received while stopping after an error: exiting now", name);
        std::_Exit(kExitRuntime);
      } else if (received == 1) {
        spdlog::info("{} received: stopping cleanly (send it again to exit at once)", name);
        request();
        LuaBudget::interrupt_all();  // a script stuck in a call ends it, so that the stop is seen
      } else {
        spdlog::warn("second signal: exiting without a clean stop");
        std::_Exit(130);
      }
    }
  });
}

SignalWatcher::~SignalWatcher() {
  done_ = true;
  if (thread_.joinable()) thread_.join();
  // Nobody watches any more: from here a signal ends the process as it
  // would any program, rather than waiting, blocked, forever.
  sigset_t set = stop_signals();
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
}

}  // namespace sluice::cli
