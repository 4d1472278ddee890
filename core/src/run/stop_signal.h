// A stop request shared by the threads of a run: set once (signal, error,
// embedding host), observed everywhere, and waitable without polling. It is
// the StopToken that sinks are given.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include "sluice/retry.h"

namespace sluice {

class StopSignal : public StopToken {
 public:
  void request() {
    {
      std::lock_guard lock(mutex_);
      flag_ = true;
    }
    cv_.notify_all();
  }
  bool requested() const { return flag_.load(std::memory_order_relaxed); }
  const std::atomic<bool>& flag() const { return flag_; }
  // Sleeps up to `d`; true if stop was requested meanwhile.
  bool wait_for(std::chrono::milliseconds d) const override {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, d, [this] { return flag_.load(); });
  }
  bool stop_requested() const override { return requested(); }

 private:
  std::atomic<bool> flag_{false};
  mutable std::mutex mutex_;
  mutable std::condition_variable cv_;
};

}  // namespace sluice
