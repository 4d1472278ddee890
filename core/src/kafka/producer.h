// An idempotent Kafka producer shared by a pipeline's sources. Delivery
// reports are counted; a delivery librdkafka gives up on is fatal: the next
// produce() throws rather than letting records vanish.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <utility>
#include <string>
#include <string_view>
#include <thread>

#include "config/pipeline.h"
#include "kafka/handles.h"
#include "sluice/metrics.h"

namespace sluice {

// Where a step's delivery reports are counted (records and bytes Kafka
// acknowledged, deliveries that failed for good): given to produce(), and
// counted by the delivery callback without a lookup. Kept by the producer
// (delivery_counts()), since reports may come until it is destroyed; the
// counters must outlive it.
struct DeliveryCounts {
  metrics::Counter& records;
  metrics::Counter& bytes;
  metrics::Counter& failures;
};

class Producer {
 public:
  Producer(const KafkaSettings& settings, const std::string& bootstrap);
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;
  ~Producer();

  // Where the reports of records produced with the returned pointer are counted, valid as long as the producer.
  DeliveryCounts* delivery_counts(DeliveryCounts counts);

  // A handle for one topic, valid as long as the producer.
  rd_kafka_topic_t* topic(const std::string& name);

  // Queues one record (copied). Blocks while the local queue is full, unless
  // `stopping` turns true. Throws sluice::Error once a delivery failed for good.
  void produce(rd_kafka_topic_t* topic, std::optional<std::string_view> key,
               std::string_view value, const std::atomic<bool>& stopping, DeliveryCounts* counts = nullptr);
  // The same with message headers (name, value), e.g. a dead letter's reason.
  void produce(rd_kafka_topic_t* topic, std::optional<std::string_view> key, std::string_view value,
               std::span<const std::pair<std::string_view, std::string_view>> headers,
               const std::atomic<bool>& stopping, DeliveryCounts* counts = nullptr);

  // Waits until every queued record is acknowledged; false on timeout.
  bool flush(std::chrono::milliseconds timeout);

  uint64_t delivered() const { return delivered_.load(std::memory_order_relaxed); }
  uint64_t failed() const { return failed_.load(std::memory_order_relaxed); }
  // Empty while all is well; else what went wrong first.
  std::string failure() const;
  rd_kafka_t* handle() const { return rk_.get(); }

 private:
  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque);
  static void on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque) noexcept;
  void fail(std::string message);
  void throw_if_failed() const;

  KafkaHandle rk_;
  std::map<std::string, KafkaTopic> topics_;
  std::deque<DeliveryCounts> counts_;  // under mutex_
  std::mutex mutex_;
  std::atomic<uint64_t> delivered_{0}, failed_{0};
  std::atomic<bool> has_failure_{false};
  std::string failure_;
  int last_transient_ = 0;  // guarded by failure_mutex_
  mutable std::mutex failure_mutex_;
  std::atomic<bool> stop_polling_{false};
  std::thread poller_;
};

}  // namespace sluice
