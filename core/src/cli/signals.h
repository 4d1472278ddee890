// SIGINT/SIGTERM handling for the CLI: the first signal asks for a clean stop
// (flush, commit, exit 0); a second one exits at once.
#pragma once

#include <atomic>
#include <thread>

#include "run/stop_signal.h"

namespace sluice::cli {

class SignalWatcher {
 public:
  // Blocks the signals in this thread (and so in every thread started later)
  // and watches for them on a thread of its own.
  explicit SignalWatcher(StopSignal& stop);
  ~SignalWatcher();
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

 private:
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace sluice::cli
