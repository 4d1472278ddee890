// librdkafka's mock cluster: a real Kafka-protocol server on 127.0.0.1, run
// in-process so a pipeline works with no Kafka installed. It keeps only about
// the newest 5 MB of each partition.
#pragma once

#include <chrono>
#include <optional>
#include <set>
#include <string>

#include "kafka/handles.h"

namespace sluice {

// Sets TCP_NODELAY on this process's listening sockets on the ports of
// `bootstrap`; returns how many it set.
int disable_nagle_on_listeners(const std::string& bootstrap);

class EmbeddedBroker {
 public:
  explicit EmbeddedBroker(int brokers = 1);
  EmbeddedBroker(const EmbeddedBroker&) = delete;
  EmbeddedBroker& operator=(const EmbeddedBroker&) = delete;
  ~EmbeddedBroker();

  // "127.0.0.1:port[,...]"
  std::string bootstrap_servers() const;
  // Creates a topic; an existing one is left as it is.
  void create_topic(const std::string& topic, int partitions);

 private:
  KafkaHandle owner_;       // the mock cluster runs on this handle's threads
  KafkaMockCluster cluster_;
  std::set<std::string> created_;
  std::optional<std::chrono::steady_clock::time_point> last_request_done_;
};

}  // namespace sluice
