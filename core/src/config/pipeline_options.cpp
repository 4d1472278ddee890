// The option tables of the parts of a pipeline file that belong to no plugin.
#include "config/pipeline.h"

#include "transform/transform_chain.h"

namespace sluice {

const Options<KafkaSettings>& kafka_options() {
  static const auto options = Options<KafkaSettings>()
    .string("bootstrap_servers", &KafkaSettings::bootstrap_servers,
            "host:port list of the Kafka cluster, or \"embedded\" for an in-process broker")
      .def("embedded")
    .string("security_protocol", &KafkaSettings::security_protocol, "how to talk to the brokers")
      .def("plaintext").choices({"plaintext", "ssl", "sasl_plaintext", "sasl_ssl"})
    .string("ssl_ca", &KafkaSettings::ssl_ca, "CA certificate file (PEM) to verify the brokers")
    .string("ssl_cert", &KafkaSettings::ssl_cert, "client certificate file (PEM)")
    .string("ssl_key", &KafkaSettings::ssl_key, "client private key file (PEM)")
    .string("ssl_key_password", &KafkaSettings::ssl_key_password, "password of the client key")
      .secret()
    .string("sasl_mechanism", &KafkaSettings::sasl_mechanism, "SASL mechanism")
      .choices({"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"})
    .string("sasl_username", &KafkaSettings::sasl_username, "SASL user name")
    .string("sasl_password", &KafkaSettings::sasl_password, "SASL password").secret()
    .string("compression", &KafkaSettings::compression, "compression of produced batches")
      .def("lz4").choices({"none", "gzip", "snappy", "lz4", "zstd"})
    .string("client_id", &KafkaSettings::client_id, "client.id sent to the brokers").def("sluice")
    .string_map("librdkafka", &KafkaSettings::librdkafka,
                "any other librdkafka property, passed through unchanged");
  return options;
}

const Options<HttpSettings>& http_options() {
  static const auto options = Options<HttpSettings>()
    .string("listen", &HttpSettings::listen,
            "host:port of /metrics, /health, /ready, /api/status and the status page; \"\" turns "
            "the server off. Left at the default, a port in use is skipped for the next free one")
      .def("127.0.0.1:9464")
    .boolean("enabled", &HttpSettings::enabled, "false turns the HTTP server off").def(true)
    .boolean("allow_remote", &HttpSettings::allow_remote,
             "allow a `listen` address that is not loopback (the endpoints have no authentication)")
      .def(false);
  return options;
}

const Options<SourceCommon>& source_common_options() {
  static const auto options = Options<SourceCommon>()
    .string("name", &SourceCommon::name, "unique name of this source (default: its type)")
    .string("type", &SourceCommon::type, "the source plugin").required()
    .string("topic", &SourceCommon::topic, "Kafka topic the records are produced to").required()
    .string("key", &SourceCommon::key, "record field used as the message key (default: none)")
    .integer("partitions", &SourceCommon::partitions,
             "partitions of the topic when sluice creates it (embedded broker)")
      .def(1).range(1, 10000)
    .string_list("transforms", &SourceCommon::transforms,
                 "Lua scripts run on each record before it is produced, in order (paths relative to "
                 "the pipeline file)")
    .string("dead_letter_topic", &SourceCommon::dead_letter_topic,
            "Kafka topic for records a transform rejects: original value, reason in header "
            "`sluice.reason` (default: rejects are logged and counted)")
    .integer("transform_instructions", &SourceCommon::transform_instructions,
             "instruction budget of one transform call; beyond it the record is rejected")
      .def(10'000'000).range(1000, 1e12)
    .size("transform_memory", &SourceCommon::transform_memory,
          "memory cap of the transforms' Lua state (e.g. \"64MB\"); beyond it the record is rejected")
      .def("64MB").range(1 << 20, 1e12);
  return options;
}

const Options<SinkCommon>& sink_common_options() {
  static const auto options = Options<SinkCommon>()
    .string("name", &SinkCommon::name, "unique name of this sink (default: its type)")
    .string("type", &SinkCommon::type, "the sink plugin").required()
    .string("topic", &SinkCommon::topic, "Kafka topic the records are read from").required()
    .string("group", &SinkCommon::group,
            "consumer group (default: sluice.<pipeline>.<sink name>)")
    .string("start_from", &SinkCommon::start_from,
            "where a partition with no stored offset starts").def("earliest")
      .choices({"earliest", "latest"})
    .string("on_expired", &SinkCommon::on_expired,
            "when the next offset to read is no longer kept by Kafka: stop with an error, or skip "
            "to the earliest kept (logged)").def("error").choices({"error", "skip"})
    // A batch closes at whichever bound it reaches first, and when a record
    // has waited batch_max_wait: under a backlog batches are large (a
    // commit's WAL flush is paid rarely), a caught-up sink still writes each
    // record within the wait. The sizes: big enough to reach COPY's own rate,
    // small enough that the two batches in hand (one written, one filled)
    // keep a sink within its memory budget (DESIGN.md).
    .integer("batch_max_rows", &SinkCommon::batch_max_rows, "most records per batch")
      .def(100000).range(1, 1'000'000)
    .size("batch_max_bytes", &SinkCommon::batch_max_bytes,
          "most memory a batch holds: keys, values and about 150 bytes per record (e.g. \"8MB\"); "
          "a single larger record is still written, alone")
      .def("8MB").range(64 << 10, 4.0 * (1 << 30))
    .duration("batch_max_wait", &SinkCommon::batch_max_wait,
              "longest a record waits for its batch to fill").def("100ms").range(0, 60'000)
    .string_list("transforms", &SinkCommon::transforms,
                 "Lua scripts run on each consumed record before the sink writes it, in order "
                 "(paths relative to the pipeline file)")
    .integer("transform_instructions", &SinkCommon::transform_instructions,
             "instruction budget of one transform call; beyond it the record is rejected")
      .def(10'000'000).range(1000, 1e12)
    .size("transform_memory", &SinkCommon::transform_memory,
          "memory cap of the transforms' Lua state (e.g. \"64MB\"); beyond it the record is rejected")
      .def("64MB").range(1 << 20, 1e12);
  return options;
}

}  // namespace sluice
