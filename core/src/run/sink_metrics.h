// What one sink step reports beside StepTelemetry's counters: batch sizes,
// commits, fencing, retries and backoff, its state, end-to-end latency, and
// its lag per partition. Everything is counted per batch (never per record
// under a lock). The lag compares the offsets the sink itself stored with
// the high watermarks, asked from the brokers about once a second by a
// thread of its own: librdkafka's cached watermarks stop moving while the
// sink is stuck (its fetch queue is full), which is exactly when lag matters.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "kafka/handles.h"
#include "observe/telemetry.h"
#include "run/record_batch.h"
#include "sluice/error.h"
#include "sluice/message.h"
#include "sluice/sink.h"

namespace sluice {

// A transform's reject in a batch's views: which view, and the class of its reason.
using RejectClasses = std::vector<std::pair<size_t, const char*>>;

class SinkMetrics {
 public:
  explicit SinkMetrics(StepTelemetry& telemetry);
  ~SinkMetrics();
  SinkMetrics(const SinkMetrics&) = delete;
  SinkMetrics& operator=(const SinkMetrics&) = delete;

  // Its oldest record in a batch, per partition (lag in seconds).
  struct First {
    int64_t offset = 0, timestamp_ms = 0;
  };

  // On the consuming thread: a batch was consumed and handed to the writer.
  void consumed(const RecordBatch& records, const std::map<int32_t, First>& first);
  // Partitions assigned, with the next offset the sink stored for those it has one for.
  void assigned(const std::vector<int32_t>& partitions, const std::map<int32_t, int64_t>& stored);
  void revoked(const std::vector<int32_t>& partitions);
  // The batches in hand were rolled back (another instance wrote past us).
  void fenced();

  // On the writer thread, around the sink's write retries.
  void attempt();  // an attempt begins: the backoff before it is over
  void retrying(const Error& e);
  void recovered();  // an attempt succeeded after retries
  // A batch is stored and committed: `views` is what the sink was given,
  // `report` what it says it did with them, `next` the offsets after it.
  void stored(const RecordBatch& records, std::span<const Message> views, const RejectClasses& transform_rejects,
              const std::optional<SinkWriteReport>& report, const std::map<int32_t, int64_t>& next);

  // Asks `rk` for the high watermarks of `topic` about once a second until
  // stop_lag_monitor() (which must run before `rk` is destroyed).
  void start_lag_monitor(rd_kafka_t* rk, std::string topic);
  void stop_lag_monitor();

  // The lag as computed from these inputs (pure: tested on its own).
  // `low`: where a partition with no stored offset starts.
  struct PartitionInput {
    std::optional<int64_t> stored;
    int64_t low = 0, high = 0;
    std::optional<int64_t> oldest_unwritten_ms;  // Kafka timestamp of the record at `stored`, when consumed
    std::optional<double> behind_since;          // unix seconds the monitor first saw it behind
  };
  static StepTelemetry::PartitionLag compute_lag(int32_t partition, const PartitionInput& in, double now);

 private:
  void monitor_loop(rd_kafka_t* rk, std::string topic);
  void publish_lag(const std::map<int32_t, std::pair<int64_t, int64_t>>& watermarks);

  StepTelemetry& telemetry_;
  metrics::Histogram &batch_rows_, &latency_;
  metrics::Counter &commits_, &fenced_, &retries_;
  metrics::SecondsCounter& backoff_;
  std::vector<uint64_t> collector_ids_;

  // The writer's.
  std::optional<std::chrono::steady_clock::time_point> backoff_since_;
  std::vector<uint64_t> latency_counts_;  // reused per batch

  // Shared between the runner's threads and the lag monitor.
  mutable std::mutex mutex_;
  std::map<int32_t, std::optional<int64_t>> stored_;  // assigned partitions: next offset the sink will write
  std::map<int32_t, std::deque<First>> unwritten_;    // per partition, the first record of each batch in hand
  std::map<int32_t, std::pair<int64_t, double>> behind_since_;  // stored offset, unix seconds first seen behind

  std::mutex monitor_mutex_;
  std::condition_variable monitor_cv_;
  bool monitor_quit_ = false;
  std::thread monitor_;
};

}  // namespace sluice
