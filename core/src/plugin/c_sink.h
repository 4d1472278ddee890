// A sink plugin written in C, seen as a sluice::Sink.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "plugin/c_instance.h"

namespace sluice {

class CSink : public Sink, CInstance {
 public:
  using CInstance::CInstance;

  void write(std::span<const Message> batch) override;
  void flush() override;
  // A sink that stores its own offsets is given what transforms dropped or
  // rejected too (for their offsets); it is never handed them as records.
  bool keeps_rejects() const override { return d_.sink_assign != nullptr; }
  bool wants_headers() const override { return d_.wants_headers != 0; }
  std::optional<SinkWriteReport> last_write() const override { return report_; }
  std::map<int32_t, int64_t> on_assign(const std::string& topic, const std::vector<int32_t>& partitions,
                                       const std::map<int32_t, int64_t>& kafka_committed) override;
  void on_revoke(const std::string& topic, const std::vector<int32_t>& partitions) override;

 private:
  void note_rejected(const Message& m, const std::string& reason);
  const char* topic_of(const Message& m);

  std::string topic_;  // NUL-terminated, for the C side
  std::vector<sluice_message> messages_;
  std::vector<size_t> given_;  // per message given to the plugin: its index in the batch
  std::vector<std::pair<int32_t, int64_t>> next_;
  std::vector<SinkReject> rejects_;
  std::optional<SinkWriteReport> report_;
  // After a retriable failure at a record: the batch and where to resume.
  struct Resume {
    const Message* data;
    size_t size;
    size_t from;
  };
  std::optional<Resume> resume_;
  uint64_t rejected_total_ = 0, unlogged_ = 0;
  std::chrono::steady_clock::time_point logged_at_{};
};

}  // namespace sluice
