// A reader of one topic, with offsets handled by the caller: a member of a
// consumer group, or (a single process on the embedded broker) the owner of
// every partition, assigned directly. Either way:
// nothing is committed in the background, positions on assignment come from
// the listener (a sink may keep its own offsets), and an offset the broker's
// log does not hold (fell behind its retention, or stored for another log:
// above the high watermark) is an error naming the partition, never a skip.
#pragma once

#include <chrono>
#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/pipeline.h"
#include "kafka/fetch_waker.h"
#include "kafka/handles.h"
#include "sluice/error.h"

namespace sluice {

class RebalanceListener {
 public:
  virtual ~RebalanceListener() = default;
  // Next offsets to read, given the offsets committed in Kafka (partitions
  // with none are absent). Partitions left out start from `start_from`.
  virtual std::map<int32_t, int64_t> on_assign(const std::vector<int32_t>& partitions,
                                               const std::map<int32_t, int64_t>& committed) = 0;
  // Called before the partitions are given up: finish and commit work on them.
  virtual void on_revoke(const std::vector<int32_t>& partitions) = 0;
};

struct ConsumerSettings {
  std::string group;
  std::string topic;
  bool start_from_latest = false;
  bool skip_expired = false;  // an offset no longer kept resets to the earliest kept
  // The log began with this run (the embedded broker): reading from its
  // beginning means from offset 0, and a log start past 0 means records
  // were lost before the sink got to them.
  bool fresh_log = false;
  // This consumer is the topic's only reader (the embedded broker, with its
  // sinks in this process): it takes every partition at once instead of
  // joining `group`, whose first join waits for more members (3 s on the
  // embedded broker). The listener is called as for a group's assignment,
  // and offsets are still read and committed under `group`.
  bool assign_directly = false;
};

class Consumer {
 public:
  Consumer(const KafkaSettings& kafka, const std::string& bootstrap, ConsumerSettings settings,
           RebalanceListener& listener);
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;
  ~Consumer();

  // Appends up to `max` messages, waiting at most `timeout` for the first.
  // Throws sluice::Error on a consume error that is not transient.
  void poll(std::vector<KafkaMessage>& out, size_t max, std::chrono::milliseconds timeout);

  // Commits the next offsets to read, synchronously.
  void commit(const std::map<int32_t, int64_t>& next_offsets);

  // Moves the read positions (messages already fetched for them are dropped).
  void seek(const std::map<int32_t, int64_t>& offsets);

  const std::vector<int32_t>& assigned() const { return assigned_; }
  // For queries from another thread (rd_kafka_query_watermark_offsets is thread-safe).
  rd_kafka_t* handle() const { return rk_.get(); }

  // Sum over assigned partitions of (cached high watermark - position).
  int64_t lag() const;

  // Leaves the group cleanly (revokes first; assigned directly, the
  // partitions are revoked here as a group would).
  void close();

  const std::string& topic() const { return settings_.topic; }

  // Wake-ups sent to restart fetching after the prefetch queue was full.
  uint64_t fetch_wakeups() const { return waker_ ? waker_->wakeups() : 0; }

 private:
  static void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t* partitions, void* opaque);
  rd_kafka_resp_err_t assign(rd_kafka_topic_partition_list_t* partitions);
  void assign_every_partition();
  void revoke_directly_assigned();
  void revoke(rd_kafka_topic_partition_list_t* partitions);
  void rethrow_rebalance_error();
  void check_start_offsets(std::map<int32_t, int64_t>& start);
  // The error for a fetch whose offset the broker does not hold.
  Error out_of_range(int32_t partition, int64_t offset, const std::string& detail);

  ConsumerSettings settings_;
  RebalanceListener& listener_;
  KafkaHandle rk_;
  KafkaQueue queue_;
  std::optional<QueueFill> fill_;
  std::unique_ptr<FetchWaker> waker_;
  std::vector<int32_t> assigned_;
  bool closed_ = false;
  std::exception_ptr rebalance_error_;
  rd_kafka_resp_err_t last_warned_ = RD_KAFKA_RESP_ERR_NO_ERROR;
  // Reused by poll(): a fresh array per call costs an mmap and page faults.
  std::vector<rd_kafka_message_t*> polled_;
  std::vector<KafkaMessage> owned_;
};

}  // namespace sluice
