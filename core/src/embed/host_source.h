// Source `host`: the records an embedding program pushes with
// sluice_pipeline_push. A bounded queue stands between the host's threads
// and the source's thread, so that the host feels Kafka's back-pressure as
// a push that waits or says "try again", never as unbounded memory.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sluice/plugin_info.h"

namespace sluice::embed {

struct HostRecord {
  std::string value;
  std::optional<std::string> key;
  std::vector<std::pair<std::string, std::string>> headers;
};

class HostQueue {
 public:
  explicit HostQueue(size_t capacity) : capacity_(capacity) {}

  enum class Push { queued, full, closed };
  // Waits up to `timeout` for room (negative: until there is room or it closes).
  Push push(HostRecord record, std::chrono::milliseconds timeout);
  // No more records: what is queued is still taken.
  void close();
  bool closed() const;

  // The source's side: everything queued (empty once closed and drained),
  // waiting up to `wait` for something to come.
  std::deque<HostRecord> take(std::chrono::milliseconds wait);

 private:
  const size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable has_room_, has_records_;
  std::deque<HostRecord> records_;
  bool closed_ = false;
};

// The plugin; `queue_of` finds the queue of a source step by name (the
// pipeline's, made when it was loaded).
PluginInfo host_source_plugin(std::function<std::shared_ptr<HostQueue>(const std::string& step)> queue_of);

// The option that sizes a host source's queue, as the table names it.
inline constexpr const char* kQueueRecordsOption = "queue_records";

}  // namespace sluice::embed
