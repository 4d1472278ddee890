// Live taps on a step: the records passing it, copied for whoever watches
// (`sluice tap`, /api/tap, the status page). A step's runner holds its
// TapHub; while no tap is open, the hook is one relaxed atomic load per
// record or batch and copies nothing. Each open tap has a bounded queue: a
// reader slower than the step loses the oldest records (counted), and never
// slows the step down beyond the copy.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice {

// A record as a tap shows it (its own copy).
struct TapRecord {
  std::string topic;
  int32_t partition = -1;  // -1, offset -1: not yet in Kafka (a source's output)
  int64_t offset = -1;
  double unix_time = 0;  // the Kafka timestamp, or when the source produced it
  std::optional<std::string> key;
  std::string value;      // cut to kValueCut
  bool truncated = false;  // value was longer than kValueCut
  static constexpr size_t kValueCut = 16384;
};

// One open tap's queue.
class TapQueue {
 public:
  explicit TapQueue(size_t capacity) : capacity_(capacity ? capacity : 1) {}
  // Waits up to `wait` for a record; false when none came.
  bool pop(TapRecord& out, std::chrono::milliseconds wait);
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  void push(TapRecord record);  // drops the oldest when full

 private:
  const size_t capacity_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<TapRecord> queue_;
  std::atomic<uint64_t> dropped_{0};
};

class TapHub;

// An open tap; closes it when destroyed. Movable, not copyable.
class Tap {
 public:
  Tap() = default;
  Tap(TapHub* hub, std::shared_ptr<TapQueue> queue) : hub_(hub), queue_(std::move(queue)) {}
  Tap(Tap&& other) noexcept : hub_(std::exchange(other.hub_, nullptr)), queue_(std::move(other.queue_)) {}
  Tap& operator=(Tap&& other) noexcept;
  Tap(const Tap&) = delete;
  Tap& operator=(const Tap&) = delete;
  ~Tap() { close(); }
  void close();
  TapQueue& queue() { return *queue_; }

 private:
  TapHub* hub_ = nullptr;
  std::shared_ptr<TapQueue> queue_;
};

class TapHub {
 public:
  static constexpr size_t kDefaultCapacity = 256;

  // Thread-safe; the tap stays open until the returned Tap is destroyed.
  Tap open(size_t capacity = kDefaultCapacity);

  // The hook's test: one relaxed load. Only when true is offer() called.
  bool watched() const { return open_.load(std::memory_order_relaxed) != 0; }
  size_t open_taps() const { return open_.load(std::memory_order_relaxed); }

  // Copies the record into every open tap's queue (none open: no copy).
  // `timestamp_ms` < 0: now.
  void offer(std::string_view topic, int32_t partition, int64_t offset, int64_t timestamp_ms,
             std::optional<std::string_view> key, std::string_view value);

  // Records copied into some tap so far (for tests: 0 while none is open).
  uint64_t copies() const { return copies_.load(std::memory_order_relaxed); }

 private:
  friend class Tap;
  void close(const TapQueue* queue);
  std::atomic<uint32_t> open_{0};
  std::atomic<uint64_t> copies_{0};
  std::mutex mutex_;
  std::vector<std::shared_ptr<TapQueue>> taps_;
};

}  // namespace sluice
