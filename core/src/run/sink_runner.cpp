#include "run/sink_runner.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "sluice/error.h"
#include "sluice/retry.h"

namespace sluice {

namespace {

// Records taken from librdkafka per poll: the most that wait, copied, for
// the next batch when one fills up mid-poll.
constexpr size_t kPollMax = 4096;

// A failed write is retried until it succeeds or the run is stopped:
// nothing more is consumed meanwhile, so memory stays bounded.
const RetryPolicy kWriteRetry{{std::chrono::milliseconds(100), std::chrono::seconds(30)}, 0};
// A lost commit to Kafka only means a replay after a crash: a few tries.
const RetryPolicy kCommitRetry{{std::chrono::milliseconds(100), std::chrono::seconds(5)}, 5};

}  // namespace

SinkRunner::SinkRunner(const PipelineConfig& pipeline, const StepConfig& step,
                       std::unique_ptr<Sink> sink, const SinkLog& log, StopSignal& stop,
                       SinkLimits limits, StepTelemetry& telemetry)
    : name_(step.name),
      topic_(step.topic),
      sink_(std::move(sink)),
      stop_(stop),
      limits_(limits),
      telemetry_(telemetry),
      metrics_(telemetry),
      common_(step.sink_common),
      pending_(static_cast<size_t>(common_.batch_max_rows), static_cast<size_t>(common_.batch_max_bytes)),
      in_flight_(static_cast<size_t>(common_.batch_max_rows), static_cast<size_t>(common_.batch_max_bytes)) {
  sink_->attach_stop_token(stop_);
  // Rejected records reach only a sink with a dead letter of its own (written
  // in the batch's transaction); for others they are counted and logged.
  if (!step.transforms.scripts.empty())
    transforms_ = std::make_unique<SinkTransforms>(step, sink_->keeps_rejects(), telemetry_);
  ConsumerSettings settings;
  settings.group = log.group;
  settings.fresh_log = log.fresh_log;
  settings.assign_directly = log.assign_directly;
  settings.topic = step.topic;
  settings.start_from_latest = common_.start_from == "latest";
  settings.skip_expired = common_.on_expired == "skip";
  consumer_ = std::make_unique<Consumer>(pipeline.kafka, log.bootstrap, settings, *this);
  metrics_.start_lag_monitor(consumer_->handle(), topic_);
  // Reserved once (pages cost memory only when written): growing by doubling
  // would hold the old and the new array at once.
  if (!transforms_)
    write_views_.reserve(std::min(static_cast<size_t>(common_.batch_max_rows),
                                  static_cast<size_t>(common_.batch_max_bytes) / RecordBatch::record_overhead() + 1));
}

SinkRunner::~SinkRunner() {
  // A run that ended in an error must not write its leftovers while leaving
  // the group. A batch already with the writer is whole: it may finish.
  pending_.clear();
  stop_writer();
  metrics_.stop_lag_monitor();
  // librdkafka's handle waits, when destroyed, for every message it handed out.
  drop_polled(nullptr);
  consumer_.reset();
}

void SinkRunner::drain_to(std::map<int32_t, int64_t> targets) {
  std::lock_guard lock(drain_mutex_);
  drain_targets_ = std::move(targets);
}

namespace {

// Sets a flag for a scope, however the scope is left.
class Rebalancing {
 public:
  explicit Rebalancing(bool& flag) : flag_(flag) { flag_ = true; }
  Rebalancing(const Rebalancing&) = delete;
  Rebalancing& operator=(const Rebalancing&) = delete;
  ~Rebalancing() { flag_ = false; }

 private:
  bool& flag_;
};

}  // namespace

std::map<int32_t, int64_t> SinkRunner::on_assign(const std::vector<int32_t>& partitions,
                                                 const std::map<int32_t, int64_t>& committed) {
  // The sink is not called while the writer has it. Fenced here, there is
  // nothing to seek: the stored offsets are read just below.
  {
    Rebalancing rebalancing(revoking_);
    settle();
  }
  std::map<int32_t, int64_t> start = sink_->on_assign(topic_, partitions, committed);
  for (const auto& [partition, offset] : start) next_offset_[partition] = offset;
  note_stored(start);
  metrics_.assigned(partitions, start);
  return start;
}

std::map<int32_t, int64_t> SinkRunner::stored_positions() const {
  std::lock_guard lock(stored_mutex_);
  return stored_;
}

void SinkRunner::note_stored(const std::map<int32_t, int64_t>& next) {
  std::lock_guard lock(stored_mutex_);
  for (const auto& [partition, offset] : next) {
    int64_t& at = stored_[partition];
    at = std::max(at, offset);
  }
}

void SinkRunner::on_revoke(const std::vector<int32_t>& partitions) {
  // Finish the batches in hand while their partitions are still ours.
  {
    Rebalancing rebalancing(revoking_);
    hand_over();
    settle();
  }
  // Read but in no batch: whoever gets the partitions reads them again.
  drop_polled(nullptr);
  sink_->on_revoke(topic_, partitions);
  metrics_.revoked(partitions);
  for (int32_t p : partitions) next_offset_.erase(p);
}

void SinkRunner::run() {
  struct Ended {
    std::atomic<bool>& running;
    ~Ended() { running.store(false, std::memory_order_release); }
  } ended{running_};
  start_writer();
  try {
    do {
      while (!stop_.requested() && !finished()) {
        telemetry_.beat();
        fill_batch();
        hand_over();
        lag_.store(consumer_->lag(), std::memory_order_relaxed);
      }
      hand_over();
      settle();  // a last batch fenced here is consumed again
    } while (!stop_.requested() && !finished());
  } catch (const Error& e) {
    // A stop cut a wait short (the sink's retry while partitions were
    // assigned): nothing was read, nothing is lost.
    if (!(e.stopped() && stop_.requested())) {
      telemetry_.set_state(StepState::failed, e.what());
      throw;
    }
    spdlog::info("{}: {}", name_, e.what());
  } catch (const std::exception& e) {
    telemetry_.set_state(StepState::failed, e.what());
    throw;
  }
  consumer_->close();
  stop_writer();
  metrics_.stop_lag_monitor();
  telemetry_.set_state(StepState::stopped);
  if (written() > 0) {
    double seconds = std::chrono::duration<double>(last_batch_at_ - *first_record_at_).count();
    spdlog::info("{}: {} records in {:.2f}s, {:.0f} records/s (from the first record received to the last written)",
                 name_, written(),
                 seconds, seconds > 0 ? static_cast<double>(written()) / seconds : 0.0);
  }
}

void SinkRunner::fill_batch() {
  using Clock = std::chrono::steady_clock;
  const auto wait = std::max(common_.batch_max_wait, std::chrono::milliseconds(10));
  auto deadline = Clock::now() + wait;
  RecordBatch& batch = pending_.records;
  auto reached_exit_after = [&] { return limits_.exit_after && handed_ + batch.size() >= limits_.exit_after; };
  take_polled();
  while (!stop_.requested() && !batch.full() && Clock::now() < deadline && !reached_exit_after()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    size_t room = std::min(static_cast<size_t>(common_.batch_max_rows) - batch.size(), kPollMax);
    if (limits_.exit_after) room = std::min<uint64_t>(room, limits_.exit_after - handed_ - batch.size());
    // Short slices: records move into the batch as they come rather than
    // waiting inside librdkafka until the whole window has passed.
    consumer_->poll(polled_, room, std::clamp(left, std::chrono::milliseconds(0), std::chrono::milliseconds(20)));
    // The rate is measured from the first record received, so the time spent
    // collecting the first batch counts too.
    if (!first_record_at_ && !polled_.empty()) first_record_at_ = Clock::now();
    take_polled();
  }
}

// Copies polled records into the batch until it is full, releasing each
// message (and with the last one its fetch buffer) once copied, or with
// transforms once they ran on it.
void SinkRunner::take_polled() {
  RecordBatch& batch = pending_.records;
  const size_t first_record = batch.size(), first_message = polled_taken_;
  // Only sinks that say so read them here; scripts read them from the message.
  const bool with_headers = !transforms_ && sink_->wants_headers();
  while (polled_taken_ < polled_.size() && batch.add(*polled_[polled_taken_], with_headers)) ++polled_taken_;
  if (transforms_ && batch.size() > first_record)
    transforms_->run(batch, first_record, std::span(polled_).subspan(first_message, polled_taken_ - first_message),
                     topic_, pending_.views, pending_.reject_classes);
  for (size_t i = first_message; i < polled_taken_; ++i) polled_[i].reset();
  if (polled_taken_ < polled_.size()) return;
  polled_.clear();
  polled_taken_ = 0;
}

// Drops the polled records not yet in a batch, noting in `dropped_from` where
// each partition's dropped records begin.
void SinkRunner::drop_polled(std::map<int32_t, int64_t>* dropped_from) {
  for (; polled_taken_ < polled_.size(); ++polled_taken_) {
    const rd_kafka_message_t& m = *polled_[polled_taken_];
    if (dropped_from) {
      auto [it, added] = dropped_from->emplace(m.partition, m.offset);
      if (!added) it->second = std::min(it->second, m.offset);
    }
  }
  polled_.clear();
  polled_taken_ = 0;
}

void SinkRunner::prepare(Batch& batch) {
  batch.next.clear();
  const RecordBatch& records = batch.records;
  // Transforms ran once per record as it came (take_polled): a retried write
  // reuses what they made, since scripts may keep state. Without them the
  // writer takes its views.
  if (transforms_) transforms_->finish(batch.views);
  // Records come in runs of one partition: one map update per run.
  for (size_t i = 0, n = records.size(); i < n;) {
    const int32_t partition = records.partition(i);
    size_t last = i;
    while (last + 1 < n && records.partition(last + 1) == partition) ++last;
    batch.next[partition] = records.offset(last) + 1;
    batch.first.try_emplace(partition, SinkMetrics::First{records.offset(i), records.timestamp_ms(i)});
    i = last + 1;
  }
  metrics_.consumed(records, batch.first);
}

// Prepares the consumed batch while the writer is still on the previous
// one, then waits for it and hands the new batch over.
void SinkRunner::hand_over() {
  if (!pending_.records.empty()) prepare(pending_);
  settle();  // fenced: pending_ is dropped
  if (pending_.records.empty()) return;
  handed_ += pending_.records.size();
  {
    std::lock_guard lock(hand_mutex_);
    std::swap(pending_, in_flight_);
    busy_ = true;
  }
  hand_cv_.notify_all();
}

// Waits until the writer is idle and takes in how its batch ended.
void SinkRunner::settle() {
  std::unique_lock lock(hand_mutex_);
  // Waiting on the writer (a retried write) is progress too, for /health.
  while (!hand_cv_.wait_for(lock, std::chrono::seconds(1), [this] { return !busy_; })) telemetry_.beat();
  if (std::exception_ptr failure = std::exchange(failure_, nullptr)) std::rethrow_exception(failure);
  if (std::exchange(left_unwritten_, false)) {
    // The stop came while a write was being retried (or waited on its
    // reader): what was consumed is not written and its offsets not
    // committed, so the next run reads it again. Nothing is lost: a clean stop.
    spdlog::info("{}: stopped with a write unfinished: the batch in hand ({} records, and {} consumed after "
                 "it) was left for the next run", name_, in_flight_.records.size(),
                 pending_.records.size() + polled_.size() - polled_taken_);
    in_flight_.clear();
    pending_.clear();
    drop_polled(nullptr);
    return;
  }
  std::optional<std::string> fenced = std::exchange(fenced_, std::nullopt);
  if (!fenced) {
    for (const auto& [partition, offset] : in_flight_.next) next_offset_[partition] = offset;
    in_flight_.next.clear();
    return;
  }
  lock.unlock();
  recover_from_fencing(*fenced, in_flight_.records.size());
}

void SinkRunner::recover_from_fencing(const std::string& why, size_t batch_size) {
  // Another instance wrote past us: our batch was rolled back and must not be
  // retried, nor the one consumed after it. Continue from what the sink has stored.
  spdlog::warn("{}: fenced, batch of {} rolled back; {}: {}", name_, batch_size,
               revoking_ ? "its partitions are being reassigned anyway" : "re-reading stored offsets and seeking", why);
  handed_ -= batch_size;  // to be consumed again
  metrics_.fenced();
  // Where each partition's dropped records begin: a partition the sink has
  // stored no offset for is read again from there.
  std::map<int32_t, int64_t> dropped_from;
  for (const Batch* b : {&in_flight_, &pending_})
    for (size_t i = 0; i < b->records.size(); ++i) {
      auto [it, added] = dropped_from.emplace(b->records.partition(i), b->records.offset(i));
      if (!added) it->second = std::min(it->second, b->records.offset(i));
    }
  drop_polled(&dropped_from);
  in_flight_.clear();
  pending_.clear();
  if (revoking_) return;
  std::map<int32_t, int64_t> start = sink_->on_assign(topic_, consumer_->assigned(), {});
  for (const auto& [partition, offset] : dropped_from) start.emplace(partition, offset);
  for (const auto& [partition, offset] : start) next_offset_[partition] = offset;
  consumer_->seek(start);
}

bool SinkRunner::finished() {
  if (limits_.exit_after && handed_ >= limits_.exit_after) return true;
  std::lock_guard lock(drain_mutex_);
  if (!drain_targets_) return false;
  for (const auto& [partition, target] : *drain_targets_) {
    if (target <= 0) continue;
    auto it = next_offset_.find(partition);
    if (it == next_offset_.end() || it->second < target) return false;
  }
  return true;
}

void SinkRunner::start_writer() {
  writer_ = std::thread([this] { writer_loop(); });
}

void SinkRunner::stop_writer() {
  {
    std::lock_guard lock(hand_mutex_);
    quit_ = true;
  }
  hand_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
}

void SinkRunner::writer_loop() {
  std::unique_lock lock(hand_mutex_);
  for (;;) {
    hand_cv_.wait(lock, [this] { return busy_ || quit_; });
    if (!busy_) return;
    lock.unlock();
    std::exception_ptr failure;
    std::optional<std::string> fenced;
    bool left = false;
    try {
      if (write(in_flight_)) {
        // Written: the offsets after it stay for settle().
        in_flight_.views.clear();
        in_flight_.records.clear();
      } else {
        left = true;
      }
    } catch (const Error& e) {
      if (e.error_class() == ErrorClass::fenced) fenced = e.what();
      else failure = std::current_exception();
    } catch (...) {
      failure = std::current_exception();
    }
    lock.lock();
    failure_ = failure;
    fenced_ = std::move(fenced);
    left_unwritten_ = left;
    busy_ = false;
    hand_cv_.notify_all();
  }
}

// Writes a batch, retrying what can be retried, and commits its offsets to
// Kafka. False when a stop request ended the retries: the batch is left,
// unwritten and uncommitted. Throws ErrorClass::fenced as the sink did.
bool SinkRunner::write(Batch& batch) {
  // Without transforms the views are made here, into one vector, so that only
  // the batch being written has them (they are 100 bytes a record).
  std::span<const Message> views = batch.views;
  if (!transforms_) {
    write_views_.clear();
    for (size_t i = 0; i < batch.records.size(); ++i) write_views_.push_back(batch.records.view(i, topic_));
    if (sink_->wants_headers()) attach_headers(batch.records);
    views = write_views_;
  }
  tap_given(views);
  if (!views.empty()) {
    int failed = 0;
    try {
      retry(
          [&] {
            metrics_.attempt();
            sink_->write(views);
            sink_->flush();
          },
          stop_, kWriteRetry,
          [&](const Error& e, int failures) {
            if (failures == 1) spdlog::warn("{}: write failed, retrying with backoff: {}", name_, e.what());
            metrics_.retrying(e);
            failed = failures;
          });
    } catch (const Error& e) {
      // Stopping with the batch unwritten is safe: its offsets are not committed.
      if (e.stopped() && stop_.requested()) {
        spdlog::info("{}: {}", name_, e.what());
        return false;
      }
      throw;
    }
    if (failed > 0) {
      spdlog::info("{}: write succeeded again after {} retries", name_, failed);
      metrics_.recovered();
    }
  }
  note_stored(batch.next);  // durable in the sink (its flush returned), whatever Kafka's commit does
  commit_with_retry(batch.next);
  metrics_.stored(batch.records, views, batch.reject_classes,
                  views.empty() ? std::nullopt : sink_->last_write(), batch.next);
  written_.fetch_add(batch.records.size(), std::memory_order_relaxed);
  last_batch_at_ = std::chrono::steady_clock::now();
  return true;
}

// Points each view at its record's headers, all collected first into one
// vector so that the spans stay valid.
void SinkRunner::attach_headers(const RecordBatch& records) {
  write_headers_.clear();
  header_ends_.clear();
  for (size_t i = 0; i < records.size(); ++i) {
    records.headers(i, record_headers_);
    write_headers_.insert(write_headers_.end(), record_headers_.begin(), record_headers_.end());
    header_ends_.push_back(write_headers_.size());
  }
  for (size_t i = 0, begin = 0; i < write_views_.size(); begin = header_ends_[i++])
    write_views_[i].headers = std::span(write_headers_).subspan(begin, header_ends_[i] - begin);
}

// What the sink is given (after its transforms), for an open tap: copied
// only while one is open, otherwise one relaxed load per batch.
void SinkRunner::tap_given(std::span<const Message> views) {
  if (!telemetry_.tap.watched()) return;
  for (const Message& m : views)
    if (!m.dropped && m.reject_reason.empty())
      telemetry_.tap.offer(m.topic, m.partition, m.offset, m.timestamp_ms,
                           m.has_key ? std::optional(m.key) : std::nullopt, m.value);
}

void SinkRunner::commit_with_retry(const std::map<int32_t, int64_t>& next) {
  // The batch is already durable; a lost commit only means a replay after a
  // crash. On stop, give up for the same reason.
  try {
    retry([&] { consumer_->commit(next); }, stop_, kCommitRetry);
  } catch (const Error& e) {
    if (!e.retriable() && !e.stopped()) throw;
    if (e.retriable()) spdlog::warn("{}: giving up committing offsets for now: {}", name_, e.what());
  }
}

}  // namespace sluice
