// What a running pipeline knows about itself, for /metrics, /health, /ready,
// /api/status, `sluice top` and the status page: one StepTelemetry per
// source and sink (its counters live in the registry), its state, and for
// sinks the lag per partition. Runners update it; the HTTP server reads it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "observe/tap.h"
#include "sluice/metrics.h"

namespace sluice {

struct StepConfig;

// A rejected record as the status page and `sluice tap --rejects` show it.
struct RejectedRecord {
  std::string step, topic;
  int32_t partition = -1;  // -1, offset -1: not from Kafka (a source's transform rejected it)
  int64_t offset = -1;
  std::string reason;  // the transform's or the sink's reason, as stored
  std::string record;  // the record's bytes, cut to kRecordCut (any bytes: escape when showing)
  double unix_time = 0;  // when it was rejected
  static constexpr size_t kRecordCut = 4096;
};

// The latest rejects of a pipeline, kept always (rejects are rare next to
// records; a bounded ring): the newest kCapacity, numbered from 1 so a
// reader can ask for those after the last it saw.
class RecentRejects {
 public:
  static constexpr size_t kCapacity = 100;
  void add(RejectedRecord r);  // sets unix_time when 0
  // Those numbered after `after` (oldest first), for one step or all ("").
  std::vector<std::pair<uint64_t, RejectedRecord>> since(uint64_t after, std::string_view step = {}) const;
  uint64_t last() const;

 private:
  mutable std::mutex mutex_;
  std::vector<RejectedRecord> ring_;  // index: number % kCapacity
  uint64_t count_ = 0;
};

enum class StepState { starting, up, retrying, stopped, failed };
const char* state_name(StepState s);

class StepTelemetry {
 public:
  StepTelemetry(metrics::Registry& registry, RecentRejects& rejects, const StepConfig& step, std::string kind);

  const std::string name, kind, type, topic;  // kind: "source" or "sink"
  const std::vector<std::string> transforms;  // script paths, as the pipeline names them

  // Where the step's own metrics go (labelled by labels()), registered at start.
  metrics::Registry& registry() const { return registry_; }
  metrics::Labels labels() const { return {{"step", name}, {"topic", topic}}; }

  // Sources: in = emitted by the plugin, out = acknowledged by Kafka.
  // Sinks: in = consumed from Kafka, out = stored by the sink (committed).
  metrics::Counter &records_in, &records_out, &dropped, &bytes_in, &bytes_out;

  // A rejected record, by a short class of its reason (bounded cardinality:
  // the caller maps reasons to a few fixed words).
  // `record` is kept in the pipeline's RecentRejects (its step is set here).
  void reject(std::string_view reason_class, RejectedRecord record);
  uint64_t rejected() const { return rejected_.load(std::memory_order_relaxed); }

  // State and why (a reason is shown as is: it must not hold a secret).
  void set_state(StepState s, std::string reason = {});
  StepState state() const;
  std::string reason() const;

  // Liveness: the step's loop calls beat() each time round.
  void beat() { last_beat_ns_.store(now_ns(), std::memory_order_relaxed); }
  double seconds_since_beat() const;

  // Sinks: per partition, the next offset the sink will write (its own
  // stored offset), the high watermark, and the age of the oldest record
  // not yet written (0 when caught up).
  struct PartitionLag {
    int32_t partition = 0;
    int64_t next_offset = 0, high_watermark = 0;
    double seconds = 0;
  };
  void set_lag(std::vector<PartitionLag> lag);
  std::vector<PartitionLag> lag() const;

  // The records passing the step, for `sluice tap` (see observe/tap.h).
  TapHub tap;

 private:
  static int64_t now_ns();
  metrics::Registry& registry_;
  RecentRejects& recent_;
  std::atomic<uint64_t> rejected_{0};
  std::atomic<int64_t> last_beat_ns_;
  mutable std::mutex mutex_;
  StepState state_ = StepState::starting;
  std::string reason_;
  std::map<std::string, metrics::Counter*, std::less<>> rejects_by_class_;
  std::vector<PartitionLag> lag_;
};

class Telemetry {
 public:
  explicit Telemetry(std::string pipeline);

  metrics::Registry& registry() { return registry_; }
  RecentRejects& rejects() { return rejects_; }
  const std::string& pipeline() const { return pipeline_; }
  std::chrono::system_clock::time_point started_at() const { return started_at_; }

  // At start, before the runners run: the returned reference lives as long as this.
  StepTelemetry& add_step(const StepConfig& step, std::string kind);
  // Read only once the runners run (the list no longer changes).
  const std::vector<std::unique_ptr<StepTelemetry>>& steps() const { return steps_; }

 private:
  std::string pipeline_;
  std::chrono::system_clock::time_point started_at_;
  metrics::Registry registry_;
  RecentRejects rejects_;
  std::vector<std::unique_ptr<StepTelemetry>> steps_;
};

}  // namespace sluice
