// A stop request shared by the threads of a run: set once (signal, error,
// embedding host), observed everywhere, and waitable without polling.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace sluice {

class StopSignal {
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
  template <class Duration>
  bool wait_for(Duration d) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, d, [this] { return flag_.load(); });
  }

 private:
  std::atomic<bool> flag_{false};
  std::mutex mutex_;
  std::condition_variable cv_;
};

}  // namespace sluice
