// The checker's metrics on /metrics: check durations by error class,
// scheduling lag, skipped slots and checks in flight. Null registry: none.
// Each worker thread keeps its own cache of the per-class histograms, so a
// check's result is counted without a lock once its class has been seen.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <utility>
#include <vector>

#include "sluice/metrics.h"

namespace http_checker {

class CheckerMetrics {
 public:
  CheckerMetrics(sluice::metrics::Registry* registry, const std::string& step) : registry_(registry), step_(step) {
    if (!registry_) return;
    const sluice::metrics::Labels labels{{"step", step_}};
    lag_ = &registry_->histogram("sluice_check_scheduling_lag_seconds",
                                 "How late a check started after its scheduled time", labels,
                                 sluice::metrics::duration_buckets());
    skipped_ = &registry_->counter("sluice_check_skipped_total",
                                   "Scheduled checks skipped because the previous check of the target was still running",
                                   labels);
    in_flight_ = &registry_->gauge("sluice_checks_in_flight", "Checks running now", labels);
  }

  // A worker's view: its cache of histograms by error class.
  class Worker {
   public:
    explicit Worker(CheckerMetrics& m) : m_(m) {}
    void started(std::chrono::steady_clock::duration lag) {
      if (!m_.registry_) return;
      m_.lag_->observe(std::chrono::duration<double>(lag).count());
      m_.in_flight_->add(1);
    }
    // `error_class`: a static string from classify() (or null: none).
    void finished(const char* error_class, double seconds, uint64_t skipped) {
      if (!m_.registry_) return;
      m_.in_flight_->add(-1);
      if (skipped) m_.skipped_->add(skipped);
      const char* cls = error_class ? error_class : "none";
      for (const auto& [c, h] : cache_)
        if (c == cls) return h->observe(seconds);
      sluice::metrics::Histogram& h = m_.duration(cls);
      cache_.emplace_back(cls, &h);
      h.observe(seconds);
    }
    void cancelled(size_t n) {
      if (m_.registry_) m_.in_flight_->add(-static_cast<double>(n));
    }

   private:
    CheckerMetrics& m_;
    std::vector<std::pair<const char*, sluice::metrics::Histogram*>> cache_;
  };

 private:
  sluice::metrics::Histogram& duration(const char* error_class) {
    return registry_->histogram("sluice_check_duration_seconds",
                                "Time a check took, by error class (\"none\": it passed)",
                                {{"step", step_}, {"error_class", error_class}}, sluice::metrics::duration_buckets());
  }

  sluice::metrics::Registry* registry_;
  std::string step_;
  sluice::metrics::Histogram* lag_ = nullptr;
  sluice::metrics::Counter* skipped_ = nullptr;
  sluice::metrics::Gauge* in_flight_ = nullptr;
};

}  // namespace http_checker
