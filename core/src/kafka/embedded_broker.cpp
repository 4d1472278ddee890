#include "kafka/embedded_broker.h"

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

void EmbeddedBroker::create_topic(const std::string& topic, int partitions) {
  rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(cluster_.get(), topic.c_str(), partitions, 1);
  if (err && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
    throw Error(errc::fatal, "embedded broker: cannot create topic `" + topic + "`: " +
                                       rd_kafka_err2str(err));
}

}  // namespace sluice
