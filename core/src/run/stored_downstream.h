// With the embedded broker, Kafka's acknowledgement of a record is not
// durable: the broker's log ends with this process. A source that keeps
// state across restarts (the lua source's ctx.state) must then count a record
// as sent only once the sinks reading its topic here have stored it, or a
// clean stop with a sink behind (its database down, say) would lose records
// for good: the state says they were sent, and no log holds them any more.
#pragma once

#include <string>
#include <vector>

#include "kafka/handles.h"
#include "run/stop_signal.h"

namespace sluice {

class SinkRunner;

class StoredDownstream {
 public:
  // A sink of this process and its consumer group: sinks sharing a group
  // divide the partitions, so together they must have stored every one.
  void add(const SinkRunner& sink, std::string group);

  // Waits until, for every group reading `topic` here, the records below
  // the topic's current high watermarks are stored. True at once when no
  // sink here reads `topic`; false when a stop comes first or a sink of the
  // topic has ended (those records are then not stored by this run).
  bool wait_stored(rd_kafka_t* rk, const std::string& topic, const StopSignal& stop) const;

 private:
  struct Reader {
    const SinkRunner* sink;
    std::string group;
  };
  std::vector<Reader> readers_;
};

}  // namespace sluice
