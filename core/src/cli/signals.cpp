#include "cli/signals.h"

#include <csignal>
#include <cstdlib>
#include <ctime>

#include <spdlog/spdlog.h>

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

SignalWatcher::SignalWatcher(StopSignal& stop) {
  sigset_t set = stop_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  thread_ = std::thread([this, &stop, set] {
    int received = 0;
    timespec tick{0, 100'000'000};
    while (!done_.load()) {
      siginfo_t info;
      if (sigtimedwait(&set, &info, &tick) < 0) continue;
      if (++received == 1) {
        spdlog::info("{} received: stopping cleanly (send it again to exit at once)",
                     info.si_signo == SIGINT ? "SIGINT" : "SIGTERM");
        stop.request();
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
}

}  // namespace sluice::cli
