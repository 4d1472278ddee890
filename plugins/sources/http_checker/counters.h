// What the checker has done so far, readable from any thread: the periodic
// log and the final summary read it today, a metrics endpoint can tomorrow.
#pragma once

#include <atomic>
#include <cstdint>

namespace http_checker {

struct Counters {
  std::atomic<uint64_t> checks{0};           // records emitted, one per check
  std::atomic<uint64_t> failed{0};           // of which with an error
  std::atomic<uint64_t> lag_us_total{0};     // sum of scheduling lag over all checks
  std::atomic<uint64_t> lag_us_max{0};       // worst lag since the start
  std::atomic<uint64_t> skipped_slots{0};    // slots passed while the previous check ran
  std::atomic<uint64_t> in_flight{0};
  std::atomic<uint64_t> cancelled{0};        // checks cut off by shutdown (no record)

  void add_lag(uint64_t us) {
    lag_us_total.fetch_add(us, std::memory_order_relaxed);
    uint64_t seen = lag_us_max.load(std::memory_order_relaxed);
    while (us > seen && !lag_us_max.compare_exchange_weak(seen, us, std::memory_order_relaxed)) {}
  }
};

}  // namespace http_checker
