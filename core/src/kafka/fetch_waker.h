// Restarts a consumer's fetching as soon as its prefetch queue has room.
//
// librdkafka 2.0 (Debian 12's) stops fetching a partition while the consumer
// queue holds `queued.max.messages.kbytes` (or `queued.min.messages`), and
// looks again only when the broker's thread next wakes up: up to a second
// later when nothing else happens on that connection. A sink that drains the
// queue faster than that then waits, idle, for most of each second (measured:
// 0.5-0.8 s gaps every ~150k records into PostgreSQL). librdkafka 2.1 bounds
// the wait (`fetch.queue.backoff.ms`); here, once the queue has been near its
// cap and is drained to half, one ListOffsets request to the partitions'
// leaders wakes their threads, which then fetch at once.
//
// The request runs on a thread of its own, since it waits for a round trip.
#pragma once

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace sluice {

// When a queue is full enough to have stopped fetching, and when drained
// enough to wake the fetcher again: the decision alone, for tests.
class QueueFill {
 public:
  // The caps librdkafka applies to the consumer queue.
  QueueFill(int64_t max_bytes, int64_t max_messages) : max_bytes_(max_bytes), max_messages_(max_messages) {}

  // After a poll that took `messages` of `bytes` in all and left `queued`
  // messages in the queue: true when the fetcher should be woken now (the
  // queue was near a cap, before this poll or an earlier one, and is now
  // at most half full).
  bool after_poll(int64_t queued, int64_t messages, int64_t bytes);

 private:
  double fill(int64_t queued) const;

  int64_t max_bytes_, max_messages_;
  int64_t polled_messages_ = 0, polled_bytes_ = 0;  // for the mean size of a queued message
  bool armed_ = false;                                // the queue was near a cap since the last wake
};

class FetchWaker {
 public:
  FetchWaker(rd_kafka_t* rk, std::string topic);
  FetchWaker(const FetchWaker&) = delete;
  FetchWaker& operator=(const FetchWaker&) = delete;
  ~FetchWaker();  // stops the thread; before the handle is closed

  // The partitions whose leaders to wake.
  void set_partitions(std::vector<int32_t> partitions);
  // Asks for a wake-up; one already asked for and not yet sent covers it.
  void wake();
  void stop();

  uint64_t wakeups() const { return wakeups_.load(std::memory_order_relaxed); }

 private:
  void loop();

  rd_kafka_t* rk_;
  std::string topic_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<int32_t> partitions_;  // under mutex_
  bool asked_ = false, stopping_ = false;  // under mutex_
  std::atomic<uint64_t> wakeups_{0};
  std::thread thread_;
};

}  // namespace sluice
