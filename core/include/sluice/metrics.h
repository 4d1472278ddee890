// Metrics a step keeps and /metrics shows (Prometheus text exposition).
// Registering takes a lock and is done at start (or rarely: a new partition,
// a new reject class); the returned references stay valid for the
// registry's life, and updating them is lock-free (relaxed atomics), so a
// per-record path keeps a reference and never looks a metric up.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::metrics {

// Label names and values, in the order they are printed.
using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void add(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// A counter of a quantity that is not whole, such as seconds spent.
class SecondsCounter {
 public:
  void add(double seconds) { value_.fetch_add(seconds, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void add(double v) { value_.fetch_add(v, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Cumulative buckets by upper bound, as Prometheus reads them.
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double v);
  // Adds many observations at once (a batch's records): `counts[i]` fell in
  // bucket i (one more entry than bounds: the +Inf bucket), summing to `sum`.
  void observe_many(const std::vector<uint64_t>& counts, double sum);
  // The bucket an observation falls in (for observe_many's caller).
  size_t bucket_of(double v) const;
  const std::vector<double>& upper_bounds() const { return bounds_; }

  struct Snapshot {
    std::vector<uint64_t> cumulative;  // per bound, then +Inf
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot snapshot() const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // one per bound, then +Inf
  std::atomic<double> sum_{0};
};

// Bucket bounds for durations in seconds: 1 ms to 60 s.
std::vector<double> duration_buckets();
// Bucket bounds for batch sizes in rows: 1 to 1M.
std::vector<double> size_buckets();

enum class Type { counter, gauge, histogram };

// One sample a collector reports when scraped.
struct Sample {
  Labels labels;
  double value = 0;
};

class Registry {
 public:
  // Labels every sample carries (pipeline="…"), printed first.
  explicit Registry(Labels common = {});
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // The metric of this family with these labels, made on first use. A name
  // registered before with another type or help throws std::logic_error.
  Counter& counter(std::string_view name, std::string_view help, const Labels& labels);
  SecondsCounter& seconds_counter(std::string_view name, std::string_view help, const Labels& labels);
  Gauge& gauge(std::string_view name, std::string_view help, const Labels& labels);
  Histogram& histogram(std::string_view name, std::string_view help, const Labels& labels,
                       const std::vector<double>& upper_bounds);

  // Samples computed when scraped (lag per partition, RSS, queue depth).
  // `collect` runs on the scraping thread, under the registry's lock: it
  // must be quick and must not call back into the registry. The returned id
  // removes it (before what it reads is destroyed).
  using Collect = std::function<void(std::vector<Sample>& out)>;
  uint64_t add_collector(std::string_view name, std::string_view help, Type type, Collect collect);
  void remove_collector(uint64_t id);

  // Every family in the Prometheus text format 0.0.4, families in name order.
  std::string render() const;

 private:
  struct Series;
  struct Family;
  Family& family(std::string_view name, std::string_view help, Type type);
  Series& series(Family& f, const Labels& labels);

  Labels common_;
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Family>, std::less<>> families_;
  uint64_t next_collector_ = 1;
};

// Text that may stand in a label value: escapes backslash, quote and newline.
std::string escape_label_value(std::string_view v);

}  // namespace sluice::metrics
