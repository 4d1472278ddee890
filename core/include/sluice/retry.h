// The one way sluice waits before trying again: capped exponential backoff
// with jitter, cut short by a stop request. The runner retries failed
// writes with it; a plugin retries its own calls with it (through the stop
// token the runner gives it), so that no wait anywhere ignores a stop.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <utility>

#include "sluice/error.h"

namespace sluice {

// A stop request as a plugin sees it.
class StopToken {
 public:
  virtual ~StopToken() = default;
  virtual bool stop_requested() const = 0;
  // Sleeps up to `d`; true if a stop was requested before or meanwhile.
  virtual bool wait_for(std::chrono::milliseconds d) const = 0;
};

// A token nobody ever stops: for code run outside a pipeline (tests, tools).
class NeverStopped : public StopToken {
 public:
  bool stop_requested() const override { return false; }
  bool wait_for(std::chrono::milliseconds) const override { return false; }
};

inline const StopToken& never_stopped() {
  static const NeverStopped token;
  return token;
}

struct BackoffPolicy {
  std::chrono::milliseconds first{100};
  std::chrono::milliseconds max{30'000};
};

// Delays that double from `first` up to `max`. Each is drawn from the upper
// half of its step, so that a fleet of sinks does not hammer a recovering
// service in lockstep.
class Backoff {
 public:
  explicit Backoff(BackoffPolicy policy = {}) : policy_(policy) {}
  std::chrono::milliseconds next() {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    const int64_t first = std::max<int64_t>(1, policy_.first.count());
    int64_t cap = policy_.max.count();
    // Doubling stops once it passed the cap: no overflow however many tries.
    if (steps_ < 62 && (first << steps_) < cap) cap = first << steps_++;
    return std::chrono::milliseconds(std::uniform_int_distribution<int64_t>(cap / 2, cap)(rng));
  }
  void reset() { steps_ = 0; }

 private:
  BackoffPolicy policy_;
  int steps_ = 0;
};

struct RetryPolicy {
  BackoffPolicy backoff;
  int max_attempts = 0;  // 0: until it succeeds or a stop is requested
};

// Calls `attempt` until it returns without throwing a retriable
// sluice::Error. Before each wait, `on_retry(error, failures so far)` is
// called (to log, to drop a broken connection). Any other error passes
// through at once; after `max_attempts` the last retriable one does. A stop
// request before or during a wait throws Error(errc::stopped): the caller
// has not got what it asked for, but nothing failed.
template <class Attempt, class OnRetry>
auto retry(Attempt&& attempt, const StopToken& stop, const RetryPolicy& policy, OnRetry&& on_retry)
    -> decltype(attempt()) {
  Backoff backoff(policy.backoff);
  for (int failures = 1;; ++failures) {
    try {
      return attempt();
    } catch (const Error& e) {
      if (!e.retriable() || (policy.max_attempts > 0 && failures >= policy.max_attempts)) throw;
      on_retry(e, failures);
      if (stop.wait_for(backoff.next()))
        throw Error(errc::stopped, std::string("stopped while retrying: ") + e.what());
    }
  }
}

template <class Attempt>
auto retry(Attempt&& attempt, const StopToken& stop, const RetryPolicy& policy) -> decltype(attempt()) {
  return retry(std::forward<Attempt>(attempt), stop, policy, [](const Error&, int) {});
}

}  // namespace sluice
