#include "plugin/c_sink.h"

#include <algorithm>

#include <spdlog/spdlog.h>

namespace sluice {

const char* CSink::topic_of(const Message& m) {
  if (m.topic != topic_) topic_ = std::string(m.topic);
  return topic_.c_str();
}

void CSink::write(std::span<const Message> batch) {
  // The runner retries a failed write with the same batch: after a record
  // failed retriably, the plugin gets the records from that one on, as the
  // ABI promises, so that a sink without transactions writes nothing twice.
  size_t from = 0;
  if (resume_ && resume_->data == batch.data() && resume_->size == batch.size()) {
    from = resume_->from;
  } else {
    rejects_.clear();
    report_ = SinkWriteReport{};
  }
  resume_.reset();
  size_t rows_before = report_ ? report_->rows : 0;
  report_.reset();

  next_.clear();
  for (const Message& m : batch) {
    if (!next_.empty() && next_.back().first == m.partition) {
      next_.back().second = std::max(next_.back().second, m.offset + 1);
      continue;
    }
    auto it = std::find_if(next_.begin(), next_.end(), [&](const auto& p) { return p.first == m.partition; });
    if (it == next_.end()) next_.emplace_back(m.partition, m.offset + 1);
    else it->second = std::max(it->second, m.offset + 1);
  }
  messages_.clear();
  given_.clear();
  for (size_t i = from; i < batch.size(); ++i) {
    const Message& m = batch[i];
    if (m.dropped) continue;
    if (!m.reject_reason.empty()) {
      rejects_.push_back({i, "transform", std::string(m.reject_reason)});
      continue;
    }
    messages_.push_back({&m, topic_of(m)});
    given_.push_back(i);
  }

  sluice_batch b{messages_, next_};
  sluice_write_result result;
  result.count = messages_.size();
  raise_c_error(d_.sink_write(self_, &b, &result), name_);

  size_t stored = result.retry_from ? result.retry_from->first : messages_.size();
  for (const auto& [index, reason] : result.rejected) {
    if (index >= stored) continue;  // after the retriable failure: not decided yet
    rejects_.push_back({given_[index], "plugin", reason});
    note_rejected(batch[given_[index]], reason);
  }
  size_t rejected_here = 0;
  for (const auto& [index, reason] : result.rejected) rejected_here += index < stored ? 1 : 0;
  const size_t rows = rows_before + stored - rejected_here;
  if (result.retry_from) {
    const Message& m = batch[given_[result.retry_from->first]];
    resume_ = Resume{batch.data(), batch.size(), given_[result.retry_from->first]};
    report_ = SinkWriteReport{rows, {}};
    throw Error(ErrorClass::retriable, name_ + ": record at partition " + std::to_string(m.partition) +
                                           ", offset " + std::to_string(m.offset) + ": " +
                                           result.retry_from->second);
  }
  std::sort(rejects_.begin(), rejects_.end(), [](const SinkReject& a, const SinkReject& b) { return a.message < b.message; });
  report_ = SinkWriteReport{rows, rejects_};
}

// The first reject in full, then at most a line per 10 s: a stream of bad
// records cannot flood the log. Each one is in the rejects (metrics, tap).
void CSink::note_rejected(const Message& m, const std::string& reason) {
  ++rejected_total_;
  auto now = std::chrono::steady_clock::now();
  if (rejected_total_ > 1 && now - logged_at_ < std::chrono::seconds(10)) {
    ++unlogged_;
    return;
  }
  if (unlogged_ == 0)
    spdlog::warn("{}: record at partition {}, offset {} rejected by the sink: {}", name_, m.partition, m.offset, reason);
  else
    spdlog::warn("{}: {} more records rejected by the sink ({} in all); latest at partition {}, offset {}: {}", name_,
                 unlogged_, rejected_total_, m.partition, m.offset, reason);
  unlogged_ = 0;
  logged_at_ = now;
}

void CSink::flush() {
  if (d_.sink_flush) raise_c_error(d_.sink_flush(self_), name_);
}

std::map<int32_t, int64_t> CSink::on_assign(const std::string& topic, const std::vector<int32_t>& partitions,
                                            const std::map<int32_t, int64_t>& kafka_committed) {
  if (!d_.sink_assign) return kafka_committed;
  // Where to start is the sink's to say, as for the PostgreSQL sink: a
  // store it cannot read for now is retried, never replaced by Kafka's.
  const RetryPolicy policy{{std::chrono::milliseconds(100), std::chrono::seconds(10)}, 0};
  const sluice_offsets committed{kafka_committed};
  return retry(
      [&] {
        sluice_offsets next;
        raise_c_error(d_.sink_assign(self_, topic.c_str(), partitions.data(), partitions.size(), &committed, &next),
                      name_ + ": reading stored offsets");
        return next.offsets;
      },
      stop_token(), policy,
      [](const Error& e, int failures) {
        if (failures == 1) spdlog::warn("{}, retrying with backoff", e.what());
      });
}

void CSink::on_revoke(const std::string& topic, const std::vector<int32_t>& partitions) {
  if (d_.sink_revoke) d_.sink_revoke(self_, topic.c_str(), partitions.data(), partitions.size());
}

}  // namespace sluice
