#include "kafka/embedded_broker.h"

#include <thread>

#include "kafka/client_config.h"
#include "sluice/error.h"

namespace sluice {

EmbeddedBroker::EmbeddedBroker(int brokers) {
  KafkaConf conf(rd_kafka_conf_new());
  // The owner handle is never used to produce; silence its own logging.
  set_property(conf.get(), "log_level", "3");
  char err[512];
  owner_.reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), err, sizeof err));
  if (!owner_) throw Error(errc::fatal, std::string("embedded broker: ") + err);
  conf.release();  // rd_kafka_new took it
  cluster_.reset(rd_kafka_mock_cluster_new(owner_.get(), brokers));
  if (!cluster_) throw Error(errc::fatal, "embedded broker: could not start the mock cluster");
}

EmbeddedBroker::~EmbeddedBroker() {
  cluster_.reset();  // before its owner handle
  owner_.reset();
}

std::string EmbeddedBroker::bootstrap_servers() const {
  return rd_kafka_mock_cluster_bootstraps(cluster_.get());
}

// A request to the mock cluster made right after the previous one was
// answered may wait a whole second (librdkafka 2.0's mock thread can drain
// the new request's wake-up byte along with the old one's, then sleeps in
// poll() for its 1 s timeout; measured: 3-11 of 60 back-to-back requests).
// So a topic is asked for once, and a later request waits until the mock
// thread is back in poll(): a fraction of a millisecond suffices (0 of 60).
constexpr std::chrono::milliseconds kMockRequestGap{1};

void EmbeddedBroker::create_topic(const std::string& topic, int partitions) {
  if (!created_.insert(topic).second) return;  // an existing one is left as it is
  if (last_request_done_) std::this_thread::sleep_until(*last_request_done_ + kMockRequestGap);
  rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(cluster_.get(), topic.c_str(), partitions, 1);
  last_request_done_ = std::chrono::steady_clock::now();
  if (err && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
    throw Error(errc::fatal, "embedded broker: cannot create topic `" + topic + "`: " +
                                       rd_kafka_err2str(err));
}

}  // namespace sluice
