// SIGINT/SIGTERM handling for the CLI: the first signal asks for a clean stop
// (flush, commit, exit 0); a second one exits at once (130), and so does the
// first when an error already stopped the run (1). The watcher lives on its
// own thread, so no stuck thread of the run can keep a signal from ending it.
#pragma once

#include <atomic>
#include <functional>
#include <thread>

#include "run/stop_signal.h"

namespace sluice::cli {

class SignalWatcher {
 public:
  // Blocks the signals in this thread (and so in every thread started later)
  // and watches for them on a thread of its own.
  explicit SignalWatcher(StopSignal& stop);
  // The same for a run seen from outside (a pipeline of the C API):
  // `stopping` says whether a stop is under way, `request` asks for one.
  SignalWatcher(std::function<bool()> stopping, std::function<void()> request);
  ~SignalWatcher();
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

 private:
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace sluice::cli
