#include "embed/host_source.h"

#include <spdlog/spdlog.h>

#include "sluice/error.h"

namespace sluice::embed {

HostQueue::Push HostQueue::push(HostRecord record, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  auto ready = [this] { return closed_ || records_.size() < capacity_; };
  if (timeout.count() < 0) has_room_.wait(lock, ready);
  else if (!has_room_.wait_for(lock, timeout, ready)) return Push::full;
  if (closed_) return Push::closed;
  records_.push_back(std::move(record));
  lock.unlock();
  has_records_.notify_one();
  return Push::queued;
}

void HostQueue::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  has_room_.notify_all();
  has_records_.notify_all();
}

bool HostQueue::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

std::deque<HostRecord> HostQueue::take(std::chrono::milliseconds wait) {
  std::deque<HostRecord> taken;
  {
    std::unique_lock lock(mutex_);
    has_records_.wait_for(lock, wait, [this] { return closed_ || !records_.empty(); });
    taken.swap(records_);
  }
  has_room_.notify_all();
  return taken;
}

namespace {

struct HostSourceConfig {
  int64_t queue_records = 0;  // default: the option table
};

class HostSource : public Source {
 public:
  HostSource(std::shared_ptr<HostQueue> queue, std::string name) : queue_(std::move(queue)), name_(std::move(name)) {}

  // Ends when the host closes it; a finite source, so that the sinks then
  // end once they stored everything.
  bool finite() const override { return true; }

  void run(Emitter& emitter) override {
    std::vector<std::pair<std::string_view, std::string_view>> headers;
    for (;;) {
      // Polled: a stop that a failure requested does not wake the queue.
      std::deque<HostRecord> records = queue_->take(std::chrono::milliseconds(100));
      if (records.empty() && queue_->closed()) return;
      if (records.empty() && emitter.stopping()) {
        queue_->close();  // no push waits for a source that is gone
        continue;         // and what came meanwhile is still produced
      }
      for (size_t i = 0; i < records.size(); ++i) {
        const HostRecord& r = records[i];
        headers.clear();
        for (const auto& [n, v] : r.headers) headers.emplace_back(n, v);
        try {
          emitter.emit_with_headers(r.value, r.key ? std::optional<std::string_view>(*r.key) : std::nullopt, headers);
        } catch (const Error&) {
          if (emitter.stopping())
            spdlog::warn("{}: stopped while Kafka took no more records: {} pushed record(s) not produced", name_,
                         records.size() - i);
          throw;
        }
      }
    }
  }

 private:
  std::shared_ptr<HostQueue> queue_;
  std::string name_;
};

}  // namespace

PluginInfo host_source_plugin(std::function<std::shared_ptr<HostQueue>(const std::string& step)> queue_of) {
  static const auto options = Options<HostSourceConfig>().integer(
      kQueueRecordsOption, &HostSourceConfig::queue_records,
      "records a push may queue before it waits (back-pressure from Kafka reaches the host here)")
      .def(1024).range(1, 1 << 24);
  PluginInfo info{"host", PluginKind::source,
                  "records the embedding program pushes (sluice.h: sluice_pipeline_push), until it closes the source",
                  options.specs(), {}, {}};
  info.checks = options.checks();
  info.make_source = [queue_of](const OptionValues&, const PluginContext& ctx) {
    return std::unique_ptr<Source>(std::make_unique<HostSource>(queue_of(ctx.name), ctx.name));
  };
  return info;
}

}  // namespace sluice::embed
