#include "cli/kafka_client.h"

#include <cstdio>
#include <cstdlib>

#include "cli/load.h"
#include "sluice/error.h"

namespace sluice::cli {

std::string topic_name_problem(const std::string& topic) {
  if (topic.empty()) return "must not be empty";
  if (topic.size() > 249) return "a Kafka topic name has at most 249 characters";
  if (topic == "." || topic == "..") return "`.` and `..` are not Kafka topic names";
  for (char c : topic) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                         c == '_' || c == '-';
    if (!allowed) return "a Kafka topic name has only letters, digits, `.`, `_` and `-`";
  }
  return "";
}

void add_kafka_client_options(CLI::App* cmd, KafkaClientArgs& args) {
  cmd->add_option("--bootstrap-server", args.bootstrap,
                  std::string("host:port[,host:port...] of the Kafka cluster (default: the pipeline file's, else "
                              "$KAFKA_BOOTSTRAP, else ") + kDefaultBootstrap + ")");
  cmd->add_option("-c,--pipeline", args.pipeline,
                  "a pipeline file whose [kafka] settings (TLS, SASL, librdkafka properties) are used");
  cmd->add_option("--timeout", args.timeout, "how long to wait for the cluster to answer at start");
}

std::optional<KafkaClient> resolve_kafka_client(const KafkaClientArgs& args, const PluginRegistry& registry) {
  KafkaClient client;
  client.settings = kafka_options().defaults();
  auto timeout = parse_duration(args.timeout);
  if (!timeout || timeout->count() <= 0) {
    std::fprintf(stderr, "error: --timeout: `%s` is not a duration such as \"10s\"\n", args.timeout.c_str());
    return std::nullopt;
  }
  client.timeout = *timeout;
  client.timeout_text = args.timeout;
  if (!args.pipeline.empty()) {
    auto config = load_checked(args.pipeline, registry);
    if (!config) return std::nullopt;
    client.settings = config->kafka;
  }
  const char* env = std::getenv("KAFKA_BOOTSTRAP");
  if (!args.bootstrap.empty()) client.bootstrap = args.bootstrap;
  else if (!args.pipeline.empty() && !client.settings.embedded()) client.bootstrap = client.settings.bootstrap_servers;
  else if (env && *env && std::string(env) != "embedded") client.bootstrap = env;
  else client.bootstrap = kDefaultBootstrap;
  if (client.bootstrap == "embedded") {
    std::fprintf(stderr, "error: --bootstrap-server: \"embedded\" is a broker inside one `sluice run`; run "
                         "`sluice broker` and pass the address it prints\n");
    return std::nullopt;
  }
  client.settings.bootstrap_servers = client.bootstrap;
  return client;
}

std::vector<int32_t> reach_topic(rd_kafka_t* rk, const KafkaClient& client, const std::string& topic) {
  KafkaTopic handle(rd_kafka_topic_new(rk, topic.c_str(), nullptr));
  if (!handle) throw Error(errc::config, "topic `" + topic + "`: " + rd_kafka_err2str(rd_kafka_last_error()));
  const rd_kafka_metadata_t* raw = nullptr;
  if (rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, handle.get(), &raw, static_cast<int>(client.timeout.count())))
    throw Error(errc::unavailable, "no answer from the Kafka cluster at " + client.bootstrap + " within " +
                                       client.timeout_text + " (" + rd_kafka_err2str(err) +
                                       "); is it running? --bootstrap-server sets the address");
  KafkaMetadata metadata(raw);
  std::vector<int32_t> ids;
  for (int t = 0; t < metadata->topic_cnt; ++t) {
    if (metadata->topics[t].err)
      throw Error(errc::unavailable, "topic `" + topic + "` on " + client.bootstrap + ": " +
                                         rd_kafka_err2str(metadata->topics[t].err));
    for (int p = 0; p < metadata->topics[t].partition_cnt; ++p) ids.push_back(metadata->topics[t].partitions[p].id);
  }
  return ids;
}

}  // namespace sluice::cli
