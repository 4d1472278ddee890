// The interface a sink plugin implements.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "sluice/message.h"
#include "sluice/retry.h"

namespace sluice {

// What a sink's last successful write() did with its batch, for metrics: the
// rows it stored, and the records it rejected itself (`message`: index in the
// batch given to write; `reason_class`: one of the fixed classes, e.g.
// "column", "constraint", "transform"), including the transform rejects it
// stored in its dead letter. Valid until its next write().
struct SinkReject {
  size_t message;
  const char* reason_class;
  std::string reason;
};
struct SinkWriteReport {
  size_t rows = 0;
  std::span<const SinkReject> rejects;
};

class Sink {
 public:
  virtual ~Sink() = default;

  // Writes one batch. Throw sluice::Error: retriable errors are retried with
  // backoff (the same batch again), others stop the sink. A write that a
  // stop request cut short throws errc::stopped: the batch is left, unwritten
  // and uncommitted, for the next run.
  virtual void write(std::span<const Message> batch) = 0;

  // True when the sink stores records a transform rejected (those with a
  // Message::reject_reason) in a dead letter of its own, in the same
  // transaction as the batch's rows, and stores its own offsets (so it is
  // also given the records a transform dropped, Message::dropped, to advance
  // them). Other sinks are never given either.
  virtual bool keeps_rejects() const { return false; }

  // True when the sink reads Message::headers (without transforms on the
  // sink: what scripts make carries none).
  virtual bool wants_headers() const { return false; }

  // What the last write() stored; nullopt when the sink does not say (then
  // every message given to it that is neither rejected nor dropped counts as
  // stored).
  virtual std::optional<SinkWriteReport> last_write() const { return std::nullopt; }

  // Makes everything written so far durable. Kafka offsets are committed only
  // after it returns, so a crash replays at most the unflushed batches.
  virtual void flush() {}

  // Partitions newly assigned to this instance (all of them in
  // `partitions`; those with an offset committed in Kafka also in
  // `kafka_committed`). A sink that stores its own offsets (exactly-once
  // sinks) returns, per partition, the next offset to read; partitions it
  // leaves out start from Kafka's committed offset, else from `start_from`.
  // Also called after a write threw ErrorClass::fenced, to re-read them.
  virtual std::map<int32_t, int64_t> on_assign(const std::string& topic,
                                               const std::vector<int32_t>& partitions,
                                               const std::map<int32_t, int64_t>& kafka_committed) {
    (void)topic;
    (void)partitions;
    return kafka_committed;
  }
  // Partitions taken away from this instance (rebalance or shutdown).
  virtual void on_revoke(const std::string& topic, const std::vector<int32_t>& partitions) {
    (void)topic;
    (void)partitions;
  }

  // The run's stop request, given by the runner before the first call. A
  // sink waits only through it (sluice::retry, stop_token().wait_for), so
  // that no wait of its own outlasts a stop.
  void attach_stop_token(const StopToken& stop) { stop_ = &stop; }

 protected:
  const StopToken& stop_token() const { return *stop_; }

 private:
  const StopToken* stop_ = &never_stopped();
};

}  // namespace sluice
