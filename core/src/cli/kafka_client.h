// What `sluice produce` and `sluice consume` share: where the Kafka cluster
// is and how to talk to it (a pipeline file's [kafka] settings: TLS, SASL),
// and a first contact with it that fails within a timeout instead of
// retrying forever.
#pragma once

#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "config/pipeline.h"
#include "kafka/handles.h"
#include "plugin/registry.h"

namespace sluice::cli {

// The default when neither --bootstrap-server, the pipeline file nor
// $KAFKA_BOOTSTRAP names a cluster: a Kafka broker's usual local address.
constexpr const char* kDefaultBootstrap = "127.0.0.1:9092";

struct KafkaClientArgs {
  std::string bootstrap;  // --bootstrap-server
  std::string pipeline;   // --pipeline/-c: its [kafka] settings
  std::string timeout = "10s";
};

// Why `topic` cannot be a Kafka topic name (Kafka's own rule: 1-249 of
// [a-zA-Z0-9._-], not "." or ".."), or "" when it can. Checked here because a
// broker that creates topics on first use (the embedded one) accepts any name.
std::string topic_name_problem(const std::string& topic);

void add_kafka_client_options(CLI::App* cmd, KafkaClientArgs& args);

struct KafkaClient {
  KafkaSettings settings;
  std::string bootstrap;
  std::chrono::milliseconds timeout{10000};
  std::string timeout_text = "10s";  // as given, for messages
};

// Resolves the cluster: --bootstrap-server, else the pipeline file's
// bootstrap_servers unless it is "embedded", else $KAFKA_BOOTSTRAP, else
// kDefaultBootstrap. Prints the problem and returns nullopt on a config error.
std::optional<KafkaClient> resolve_kafka_client(const KafkaClientArgs& args, const PluginRegistry& registry);

// The partitions of `topic`, asked within the timeout: the check that the
// cluster can be reached. Throws sluice::Error(unavailable) saying where it
// tried and why it failed.
std::vector<int32_t> reach_topic(rd_kafka_t* rk, const KafkaClient& client, const std::string& topic);

}  // namespace sluice::cli
