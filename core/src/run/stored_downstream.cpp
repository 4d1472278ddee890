#include "run/stored_downstream.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

#include "kafka/watermarks.h"
#include "run/sink_runner.h"
#include "sluice/error.h"

namespace sluice {

void StoredDownstream::add(const SinkRunner& sink, std::string group) {
  readers_.push_back({&sink, std::move(group)});
}

bool StoredDownstream::wait_stored(rd_kafka_t* rk, const std::string& topic, const StopSignal& stop) const {
  std::set<std::string> groups;
  for (const auto& r : readers_)
    if (r.sink->topic() == topic) groups.insert(r.group);
  if (groups.empty()) return true;
  std::map<int32_t, int64_t> targets;
  try {
    targets = high_watermarks(rk, topic, std::chrono::seconds(5));
  } catch (const Error&) {
    return false;  // not known stored: the caller keeps its state as it was
  }
  auto stored_by = [&](const std::string& group) {
    std::map<int32_t, int64_t> at;
    for (const auto& r : readers_) {
      if (r.sink->topic() != topic || r.group != group) continue;
      for (const auto& [partition, offset] : r.sink->stored_positions())
        at[partition] = std::max(at[partition], offset);
    }
    for (const auto& [partition, high] : targets) {
      if (high <= 0) continue;
      auto it = at.find(partition);
      if (it == at.end() || it->second < high) return false;
    }
    return true;
  };
  for (;;) {
    if (std::all_of(groups.begin(), groups.end(), stored_by)) return true;
    for (const auto& r : readers_)
      if (r.sink->topic() == topic && !r.sink->running()) return false;
    if (stop.wait_for(std::chrono::milliseconds(20))) return false;
  }
}

}  // namespace sluice
