// Runs one sink: consumes its topic in batches, hands each batch to the
// sink, and commits offsets to Kafka only after the sink made the batch
// durable. A batch holds copies of its records, not the Kafka messages, so
// librdkafka's fetch buffers are freed as they are read: memory is the
// prefetch plus two bounded batches, however far behind the sink is. Two threads work in turn on consecutive batches: the caller's
// consumes and transforms the next batch while a writer thread writes the
// current one, so the database's work overlaps the decoding. The sink is
// never called from both at once: rebalances and fencing wait for the writer.
#pragma once

#include <atomic>
#include <condition_variable>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "config/pipeline.h"
#include "kafka/consumer.h"
#include "observe/telemetry.h"
#include "run/record_batch.h"
#include "run/sink_metrics.h"
#include "run/sink_transforms.h"
#include "run/stop_signal.h"
#include "sluice/sink.h"

namespace sluice {

// Where a sink reads from.
struct SinkLog {
  std::string bootstrap;
  std::string group;       // the consumer group, also the key of the offsets a sink stores
  bool fresh_log = false;  // the embedded broker's: it began with this run, at offset 0
  bool assign_directly = false;  // the log's only reader: takes every partition, joins no group
};

struct SinkLimits {
  uint64_t exit_after = 0;  // > 0: end after this many records
};

class SinkRunner : public RebalanceListener {
 public:
  SinkRunner(const PipelineConfig& pipeline, const StepConfig& step, std::unique_ptr<Sink> sink,
             const SinkLog& log, StopSignal& stop, SinkLimits limits, StepTelemetry& telemetry);
  ~SinkRunner() override;

  // Consumes until stopped, until `exit_after`, or until drained.
  void run();

  // Ends the run once every partition has been read up to these offsets
  // (the high watermarks after the pipeline's finite sources finished).
  void drain_to(std::map<int32_t, int64_t> targets);

  std::map<int32_t, int64_t> on_assign(const std::vector<int32_t>& partitions,
                                       const std::map<int32_t, int64_t>& committed) override;
  void on_revoke(const std::vector<int32_t>& partitions) override;

  const std::string& name() const { return name_; }
  const std::string& topic() const { return topic_; }
  uint64_t written() const { return written_.load(std::memory_order_relaxed); }
  int64_t lag() const { return lag_.load(std::memory_order_relaxed); }
  uint64_t dropped() const { return transforms_ ? transforms_->dropped() : 0; }
  // Per partition: the offset after the last record this sink has stored
  // (written and flushed, or known stored when it was assigned). Thread-safe.
  std::map<int32_t, int64_t> stored_positions() const;
  // False once run() has returned.
  bool running() const { return running_.load(std::memory_order_acquire); }
  uint64_t rejected() const { return transforms_ ? transforms_->rejected() : 0; }

 private:
  // Consumed records (copied out of their Kafka messages) and what the sink
  // is given for them.
  struct Batch {
    Batch(size_t max_records, size_t max_bytes) : records(max_records, max_bytes) {}
    RecordBatch records;
    std::vector<Message> views;  // what transforms made of the records (without them: none)
    std::map<int32_t, int64_t> next;  // per partition: the offset after the batch
    std::map<int32_t, SinkMetrics::First> first;  // per partition: its first record in the batch
    RejectClasses reject_classes;  // the transforms' rejects among the views
    void clear() {
      views.clear();
      records.clear();
      next.clear();
      first.clear();
      reject_classes.clear();
    }
  };

  // On the consuming thread.
  void fill_batch();
  void take_polled();
  void drop_polled(std::map<int32_t, int64_t>* dropped_from);
  void prepare(Batch& batch);
  void hand_over();
  void settle();
  void recover_from_fencing(const std::string& why, size_t batch_size);
  bool finished();
  void start_writer();
  void stop_writer();

  // On the writer thread.
  void writer_loop();
  bool write(Batch& batch);
  void tap_given(std::span<const Message> views);
  void commit_with_retry(const std::map<int32_t, int64_t>& next);

  std::string name_, topic_;
  std::unique_ptr<Sink> sink_;
  StopSignal& stop_;
  SinkLimits limits_;
  StepTelemetry& telemetry_;  // counters, state and lag, for /metrics and /api/status
  SinkMetrics metrics_;       // its lag monitor is stopped before consumer_ goes
  SinkCommon common_;  // the step's common options, defaults from their table
  std::unique_ptr<Consumer> consumer_;  // after the members its callbacks use

  std::unique_ptr<SinkTransforms> transforms_;  // none without `transforms`
  Batch pending_;                           // being consumed
  // The last poll's messages not yet copied into a batch (it filled up):
  // the first records of the next one. At most one poll's worth.
  std::vector<KafkaMessage> polled_;
  size_t polled_taken_ = 0;
  uint64_t handed_ = 0;                     // records given to the writer, written or not
  std::map<int32_t, int64_t> next_offset_;  // per partition: next offset to read, after written batches

  // The hand-over between the two threads. While `busy_`, the writer owns
  // `in_flight_` and the sink; `failure_` / `fenced_` / `left_unwritten_`
  // say how it ended.
  std::thread writer_;
  std::mutex hand_mutex_;
  std::condition_variable hand_cv_;
  Batch in_flight_;
  std::vector<Message> write_views_;  // the writer's, for in_flight_ when there are no transforms
  // The writer's, for a sink that wants_headers(): every header of the
  // batch, where each record's end, and one record's while collecting.
  void attach_headers(const RecordBatch& records);
  std::vector<std::pair<std::string_view, std::string_view>> write_headers_, record_headers_;
  std::vector<size_t> header_ends_;
  bool busy_ = false, quit_ = false;
  bool left_unwritten_ = false;  // a stop ended the write's retries
  std::exception_ptr failure_;
  std::optional<std::string> fenced_;

  std::mutex drain_mutex_;
  std::optional<std::map<int32_t, int64_t>> drain_targets_;
  std::atomic<uint64_t> written_{0};
  mutable std::mutex stored_mutex_;
  std::map<int32_t, int64_t> stored_;  // see stored_positions()
  std::atomic<bool> running_{true};
  void note_stored(const std::map<int32_t, int64_t>& next);
  std::atomic<int64_t> lag_{0};
  bool revoking_ = false;  // inside a rebalance callback: no seeking, the assignment is changing
  std::optional<std::chrono::steady_clock::time_point> first_record_at_;
  std::chrono::steady_clock::time_point last_batch_at_;  // set by the writer, read after settle()
};

}  // namespace sluice
