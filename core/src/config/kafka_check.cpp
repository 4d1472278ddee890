#include "config/kafka_check.h"

#include <set>

#include "kafka/client_config.h"
#include "sluice/error.h"

namespace sluice {

namespace {

SourcePos pos_in(const toml::node& node, const std::string& file) {
  SourcePos p = pos_of(node.source());
  p.file = file;
  return p;
}

const char* role_name(ClientRole role) { return role == ClientRole::producer ? "producer" : "consumer"; }

}  // namespace

void check_kafka_settings(const KafkaSettings& settings, const toml::table& kafka, const std::string& file,
                          Diagnostics& diagnostics) {
  const toml::node* table = kafka.get("librdkafka");
  const toml::table* properties = table ? table->as_table() : nullptr;
  SourcePos where = pos_in(table ? *table : static_cast<const toml::node&>(kafka), file);
  std::set<std::string> refused;
  for (ClientRole role : {ClientRole::producer, ClientRole::consumer}) {
    KafkaSettings own = settings;
    own.librdkafka.clear();
    KafkaConf conf;
    try {
      conf = make_client_conf(own, "", role);
    } catch (const Error& e) {
      diagnostics.error(pos_in(kafka, file), "kafka", e.what());
      return;
    }
    // Warnings of the scratch client (e.g. a consumer property on the
    // producer) are not for check's output; run logs them.
    rd_kafka_conf_set_log_cb(conf.get(), [](const rd_kafka_t*, int, const char*, const char*) {});
    bool accepted = true;
    for (const auto& [name, value] : settings.librdkafka) {
      // A broker list is any text to librdkafka; setting it would make the
      // scratch client connect.
      if (name == "bootstrap.servers" || name == "metadata.broker.list") continue;
      char error[512];
      if (rd_kafka_conf_set(conf.get(), name.c_str(), value.c_str(), error, sizeof error) == RD_KAFKA_CONF_OK)
        continue;
      accepted = false;
      if (!refused.insert(name).second) continue;
      const toml::node* node = properties ? properties->get(name) : nullptr;
      diagnostics.error(node ? pos_in(*node, file) : where, "kafka.librdkafka." + name, error);
    }
    if (!accepted) continue;
    // Some settings are only judged together, when a client is created
    // (e.g. acks against enable.idempotence, a CA file that is not PEM).
    char error[512];
    rd_kafka_t* client = rd_kafka_new(role == ClientRole::producer ? RD_KAFKA_PRODUCER : RD_KAFKA_CONSUMER,
                                      conf.get(), error, sizeof error);
    if (!client) {
      diagnostics.error(where, "kafka", std::string("librdkafka refuses these settings for the ") + role_name(role) +
                                            ": " + error);
      return;
    }
    (void)conf.release();  // the client owns it now
    KafkaHandle owner(client);
  }
}

}  // namespace sluice
