#include "run/sink_metrics.h"

#include <algorithm>

#include <spdlog/spdlog.h>

namespace sluice {

namespace {

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// A reason is shown on /ready and the status page: one line, bounded.
std::string short_reason(std::string_view what) {
  std::string out(what.substr(0, std::min(what.find('\n'), size_t{300})));
  return out;
}

metrics::Labels with(metrics::Labels labels, std::string name, std::string value) {
  labels.emplace_back(std::move(name), std::move(value));
  return labels;
}

constexpr auto kLagEvery = std::chrono::seconds(1);
constexpr int kWatermarkTimeoutMs = 1000;

}  // namespace

SinkMetrics::SinkMetrics(StepTelemetry& telemetry)
    : telemetry_(telemetry),
      batch_rows_(telemetry.registry().histogram("sluice_sink_batch_rows", "Rows per batch a sink stored",
                                                 telemetry.labels(), metrics::size_buckets())),
      latency_(telemetry.registry().histogram(
          "sluice_end_to_end_latency_seconds",
          "From a record's Kafka timestamp (set when its source produced it) to the commit of the sink batch holding it",
          telemetry.labels(), metrics::duration_buckets())),
      commits_(telemetry.registry().counter("sluice_sink_commits_total", "Batches a sink stored and committed",
                                            telemetry.labels())),
      fenced_(telemetry.registry().counter(
          "sluice_sink_fenced_total",
          "Batches rolled back because another instance had stored offsets past them (compare-and-set failed)",
          telemetry.labels())),
      retries_(telemetry.registry().counter("sluice_sink_retries_total", "Failed writes a sink retried",
                                            telemetry.labels())),
      backoff_(telemetry.registry().seconds_counter("sluice_sink_backoff_seconds_total",
                                                    "Time a sink spent waiting before retrying a write",
                                                    telemetry.labels())) {
  latency_counts_.resize(latency_.upper_bounds().size() + 1);
  metrics::Registry& registry = telemetry.registry();
  const metrics::Labels labels = telemetry.labels();
  collector_ids_.push_back(registry.add_collector(
      "sluice_sink_lag_records",
      "High watermark minus the next offset the sink will write (from the offsets it stored itself), per partition",
      metrics::Type::gauge, [this, labels](std::vector<metrics::Sample>& out) {
        for (const auto& p : telemetry_.lag())
          out.push_back({with(labels, "partition", std::to_string(p.partition)),
                         static_cast<double>(std::max<int64_t>(0, p.high_watermark - p.next_offset))});
      }));
  collector_ids_.push_back(registry.add_collector(
      "sluice_sink_lag_seconds",
      "Now minus the Kafka timestamp of the oldest record the sink has not written yet (0 when caught up), per partition",
      metrics::Type::gauge, [this, labels](std::vector<metrics::Sample>& out) {
        for (const auto& p : telemetry_.lag())
          out.push_back({with(labels, "partition", std::to_string(p.partition)), p.seconds});
      }));
  collector_ids_.push_back(registry.add_collector(
      "sluice_sink_state", "1 for the sink's current state, 0 for the others", metrics::Type::gauge,
      [this, labels](std::vector<metrics::Sample>& out) {
        const StepState now = telemetry_.state();
        for (StepState s : {StepState::starting, StepState::up, StepState::retrying, StepState::stopped,
                            StepState::failed})
          out.push_back({with(labels, "state", state_name(s)), now == s ? 1.0 : 0.0});
      }));
}

SinkMetrics::~SinkMetrics() {
  stop_lag_monitor();
  for (uint64_t id : collector_ids_) telemetry_.registry().remove_collector(id);
}

void SinkMetrics::consumed(const RecordBatch& records, const std::map<int32_t, First>& first) {
  telemetry_.records_in.add(records.size());
  telemetry_.bytes_in.add(records.payload_bytes());
  std::lock_guard lock(mutex_);
  for (const auto& [partition, f] : first) unwritten_[partition].push_back(f);
}

void SinkMetrics::assigned(const std::vector<int32_t>& partitions, const std::map<int32_t, int64_t>& stored) {
  {
    std::lock_guard lock(mutex_);
    for (int32_t p : partitions) {
      auto it = stored.find(p);
      stored_[p] = it == stored.end() ? std::nullopt : std::optional(it->second);
      unwritten_.erase(p);
    }
  }
  telemetry_.set_state(StepState::up);
}

void SinkMetrics::revoked(const std::vector<int32_t>& partitions) {
  std::lock_guard lock(mutex_);
  for (int32_t p : partitions) {
    stored_.erase(p);
    unwritten_.erase(p);
    behind_since_.erase(p);
  }
}

void SinkMetrics::fenced() {
  fenced_.add();
  std::lock_guard lock(mutex_);
  unwritten_.clear();  // consumed again from the stored offsets
}

void SinkMetrics::attempt() {
  if (!backoff_since_) return;
  backoff_.add(std::chrono::duration<double>(std::chrono::steady_clock::now() - *backoff_since_).count());
  backoff_since_.reset();
}

void SinkMetrics::retrying(const Error& e) {
  retries_.add();
  telemetry_.set_state(StepState::retrying, short_reason(e.what()));
  backoff_since_ = std::chrono::steady_clock::now();
}

void SinkMetrics::recovered() {
  attempt();
  telemetry_.set_state(StepState::up);
}

void SinkMetrics::stored(const RecordBatch& records, std::span<const Message> views,
                         const RejectClasses& transform_rejects, const std::optional<SinkWriteReport>& report,
                         const std::map<int32_t, int64_t>& next) {
  backoff_since_.reset();  // a stop ended the wait: it is not backoff any more
  // Bytes of what was given as rows; the sink's own rejects are taken off below.
  uint64_t rows = 0, bytes = 0;
  for (const Message& m : views)
    if (!m.dropped && m.reject_reason.empty()) {
      ++rows;
      bytes += m.value.size() + m.key.size();
    }
  auto class_of = [&](size_t view, const char* fallback) {
    auto it = std::lower_bound(transform_rejects.begin(), transform_rejects.end(), std::pair<size_t, const char*>(view, nullptr),
                               [](const auto& a, const auto& b) { return a.first < b.first; });
    return it != transform_rejects.end() && it->first == view ? it->second : fallback;
  };
  auto reject = [&](const Message& m, const char* reason_class, std::string_view reason) {
    RejectedRecord r;
    r.topic = std::string(m.topic);
    r.partition = m.partition;
    r.offset = m.offset;
    r.reason = std::string(reason);
    r.record = std::string(m.value.substr(0, RejectedRecord::kRecordCut));
    telemetry_.reject(reason_class, std::move(r));
  };
  if (report) {
    rows = report->rows;
    for (const SinkReject& r : report->rejects) {
      if (r.message >= views.size()) continue;
      const Message& m = views[r.message];
      if (m.reject_reason.empty()) bytes -= std::min<uint64_t>(bytes, m.value.size() + m.key.size());
      reject(m, class_of(r.message, r.reason_class), r.reason);
    }
  } else {
    for (size_t i = 0; i < views.size(); ++i)
      if (!views[i].reject_reason.empty()) reject(views[i], class_of(i, "transform"), views[i].reject_reason);
  }
  telemetry_.records_out.add(rows);
  telemetry_.bytes_out.add(bytes);
  batch_rows_.observe(static_cast<double>(rows));
  commits_.add();

  // End-to-end latency: counted into buckets here, added to the histogram once.
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch()).count();
  std::fill(latency_counts_.begin(), latency_counts_.end(), 0);
  double sum = 0;
  bool any = false;
  for (size_t i = 0; i < records.size(); ++i) {
    const int64_t ts = records.timestamp_ms(i);
    if (ts <= 0) continue;
    const double age = static_cast<double>(std::max<int64_t>(0, now_ms - ts)) / 1000.0;
    ++latency_counts_[latency_.bucket_of(age)];
    sum += age;
    any = true;
  }
  if (any) latency_.observe_many(latency_counts_, sum);

  std::lock_guard lock(mutex_);
  for (const auto& [partition, offset] : next) {
    auto it = stored_.find(partition);
    if (it != stored_.end()) it->second = std::max(it->second.value_or(0), offset);
    auto& pending = unwritten_[partition];
    while (!pending.empty() && pending.front().offset < offset) pending.pop_front();
  }
}

StepTelemetry::PartitionLag SinkMetrics::compute_lag(int32_t partition, const PartitionInput& in, double now) {
  StepTelemetry::PartitionLag lag;
  lag.partition = partition;
  lag.next_offset = in.stored.value_or(in.low);
  lag.high_watermark = std::max(in.high, lag.next_offset);
  if (lag.high_watermark == lag.next_offset) return lag;
  if (in.oldest_unwritten_ms)
    lag.seconds = std::max(0.0, now - static_cast<double>(*in.oldest_unwritten_ms) / 1000.0);
  else if (in.behind_since)  // not consumed yet: at least this long behind
    lag.seconds = std::max(0.0, now - *in.behind_since);
  return lag;
}

void SinkMetrics::publish_lag(const std::map<int32_t, std::pair<int64_t, int64_t>>& watermarks) {
  const double now = unix_now();
  std::vector<StepTelemetry::PartitionLag> lag;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [partition, stored] : stored_) {
      auto w = watermarks.find(partition);
      if (w == watermarks.end()) continue;
      PartitionInput in;
      in.stored = stored;
      in.low = w->second.first;
      in.high = w->second.second;
      const int64_t next = stored.value_or(in.low);
      if (in.high > next) {
        auto [since, added] = behind_since_.try_emplace(partition, next, now);
        if (!added && since->second.first != next) since->second = {next, now};
        in.behind_since = since->second.second;
        if (auto u = unwritten_.find(partition); u != unwritten_.end())
          for (const First& f : u->second)
            if (f.offset >= next) {
              in.oldest_unwritten_ms = f.timestamp_ms;
              break;
            }
      } else {
        behind_since_.erase(partition);
      }
      lag.push_back(compute_lag(partition, in, now));
    }
  }
  telemetry_.set_lag(std::move(lag));
}

void SinkMetrics::start_lag_monitor(rd_kafka_t* rk, std::string topic) {
  monitor_ = std::thread([this, rk, topic = std::move(topic)] {
    try {
      monitor_loop(rk, topic);
    } catch (const std::exception& e) {
      spdlog::warn("{}: lag monitor stopped: {}", telemetry_.name, e.what());
    }
  });
}

void SinkMetrics::stop_lag_monitor() {
  {
    std::lock_guard lock(monitor_mutex_);
    monitor_quit_ = true;
  }
  monitor_cv_.notify_all();
  if (monitor_.joinable()) monitor_.join();
}

void SinkMetrics::monitor_loop(rd_kafka_t* rk, std::string topic) {
  std::map<int32_t, std::pair<int64_t, int64_t>> watermarks;  // the last known, kept while a query fails
  for (;;) {
    std::vector<int32_t> partitions;
    {
      std::lock_guard lock(mutex_);
      for (const auto& [p, stored] : stored_) partitions.push_back(p);
    }
    for (int32_t p : partitions) {
      {
        std::lock_guard lock(monitor_mutex_);
        if (monitor_quit_) return;
      }
      int64_t low = 0, high = 0;
      if (rd_kafka_query_watermark_offsets(rk, topic.c_str(), p, &low, &high, kWatermarkTimeoutMs) ==
          RD_KAFKA_RESP_ERR_NO_ERROR)
        watermarks[p] = {low, high};
    }
    publish_lag(watermarks);
    std::unique_lock lock(monitor_mutex_);
    if (monitor_cv_.wait_for(lock, kLagEvery, [this] { return monitor_quit_; })) return;
  }
}

}  // namespace sluice
