#include "observe/telemetry.h"

#include <algorithm>

#include "config/pipeline.h"

namespace sluice {

const char* state_name(StepState s) {
  switch (s) {
    case StepState::starting: return "starting";
    case StepState::up: return "up";
    case StepState::retrying: return "retrying";
    case StepState::stopped: return "stopped";
    case StepState::failed: return "failed";
  }
  return "unknown";
}

namespace {
metrics::Labels step_labels(const StepConfig& step) { return {{"step", step.name}, {"topic", step.topic}}; }
}  // namespace

void RecentRejects::add(RejectedRecord r) {
  if (r.unix_time == 0)
    r.unix_time = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  if (r.record.size() > RejectedRecord::kRecordCut) r.record.resize(RejectedRecord::kRecordCut);
  std::lock_guard lock(mutex_);
  ++count_;
  if (ring_.size() < kCapacity) ring_.push_back(std::move(r));
  else ring_[(count_ - 1) % kCapacity] = std::move(r);
}

std::vector<std::pair<uint64_t, RejectedRecord>> RecentRejects::since(uint64_t after, std::string_view step) const {
  std::lock_guard lock(mutex_);
  std::vector<std::pair<uint64_t, RejectedRecord>> out;
  uint64_t first = count_ > kCapacity ? count_ - kCapacity + 1 : 1;
  for (uint64_t n = std::max(first, after + 1); n <= count_; ++n) {
    const auto& r = ring_[(n - 1) % kCapacity];
    if (step.empty() || r.step == step) out.emplace_back(n, r);
  }
  return out;
}

uint64_t RecentRejects::last() const {
  std::lock_guard lock(mutex_);
  return count_;
}

StepTelemetry::StepTelemetry(metrics::Registry& registry, RecentRejects& rejects, const StepConfig& step,
                             std::string kind_)
    : name(step.name),
      kind(std::move(kind_)),
      type(step.plugin ? step.plugin->name : std::string()),
      topic(step.topic),
      transforms(step.transforms.scripts),
      records_in(registry.counter("sluice_records_in_total",
                                  "Records a step took in: a source's plugin emitted them, a sink consumed them from Kafka",
                                  step_labels(step))),
      records_out(registry.counter("sluice_records_out_total",
                                   "Records a step passed on: a source's acknowledged by Kafka, a sink's stored and committed",
                                   step_labels(step))),
      dropped(registry.counter("sluice_records_dropped_total", "Records a step's transforms dropped (returned nil)",
                               step_labels(step))),
      bytes_in(registry.counter("sluice_bytes_in_total", "Bytes of the records a step took in", step_labels(step))),
      bytes_out(registry.counter("sluice_bytes_out_total", "Bytes of the records a step passed on", step_labels(step))),
      registry_(registry),
      recent_(rejects),
      last_beat_ns_(now_ns()) {}

void StepTelemetry::reject(std::string_view reason_class, RejectedRecord record) {
  rejected_.fetch_add(1, std::memory_order_relaxed);
  metrics::Counter* c;
  {
    std::lock_guard lock(mutex_);
    auto it = rejects_by_class_.find(reason_class);
    if (it == rejects_by_class_.end()) {
      c = &registry_.counter("sluice_records_rejected_total",
                             "Records a step rejected (to the rejects table, dead-letter topic or log), by class of reason",
                             {{"step", name}, {"topic", topic}, {"reason_class", std::string(reason_class)}});
      rejects_by_class_.emplace(std::string(reason_class), c);
    } else {
      c = it->second;
    }
  }
  c->add();
  record.step = name;
  recent_.add(std::move(record));
}

void StepTelemetry::set_state(StepState s, std::string reason) {
  std::lock_guard lock(mutex_);
  state_ = s;
  reason_ = std::move(reason);
}

StepState StepTelemetry::state() const {
  std::lock_guard lock(mutex_);
  return state_;
}

std::string StepTelemetry::reason() const {
  std::lock_guard lock(mutex_);
  return reason_;
}

int64_t StepTelemetry::now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

double StepTelemetry::seconds_since_beat() const {
  return static_cast<double>(now_ns() - last_beat_ns_.load(std::memory_order_relaxed)) / 1e9;
}

void StepTelemetry::set_lag(std::vector<PartitionLag> lag) {
  std::lock_guard lock(mutex_);
  lag_ = std::move(lag);
}

std::vector<StepTelemetry::PartitionLag> StepTelemetry::lag() const {
  std::lock_guard lock(mutex_);
  return lag_;
}

Telemetry::Telemetry(std::string pipeline)
    : pipeline_(std::move(pipeline)),
      started_at_(std::chrono::system_clock::now()),
      registry_({{"pipeline", pipeline_}}) {}

StepTelemetry& Telemetry::add_step(const StepConfig& step, std::string kind) {
  steps_.push_back(std::make_unique<StepTelemetry>(registry_, rejects_, step, std::move(kind)));
  return *steps_.back();
}

}  // namespace sluice
