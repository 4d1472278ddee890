#include "kafka/client_config.h"

#include <cstdlib>

#include <spdlog/spdlog.h>

#include "sluice/error.h"

namespace sluice {

namespace {
// librdkafka's own lines go through sluice's logger (and so its redaction)
// instead of straight to stderr. `level` is syslog's: 3 error, 4 warning...
void log_to_spdlog(const rd_kafka_t* rk, int level, const char* facility, const char* text) {
  auto severity = level <= 3 ? spdlog::level::err
                  : level == 4 ? spdlog::level::warn
                  : level <= 6 ? spdlog::level::info
                               : spdlog::level::debug;
  spdlog::log(severity, "librdkafka {} {}: {}", rd_kafka_name(rk), facility, text);
}
}  // namespace

void set_property(rd_kafka_conf_t* conf, const std::string& name, const std::string& value) {
  char err[512];
  if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK)
    throw Error(errc::config, "kafka property `" + name + "`: " + err);
}

int64_t int_property(const rd_kafka_conf_t* conf, const std::string& name) {
  char value[64];
  size_t size = sizeof value;
  if (rd_kafka_conf_get(conf, name.c_str(), value, &size) != RD_KAFKA_CONF_OK)
    throw Error(errc::fatal, "kafka property `" + name + "` is unknown to librdkafka");
  return std::strtoll(value, nullptr, 10);
}

KafkaConf make_client_conf(const KafkaSettings& s, const std::string& bootstrap, ClientRole role) {
  KafkaConf conf(rd_kafka_conf_new());
  rd_kafka_conf_t* c = conf.get();
  rd_kafka_conf_set_log_cb(c, log_to_spdlog);
  set_property(c, "bootstrap.servers", bootstrap);
  set_property(c, "client.id", s.client_id);
  set_property(c, "security.protocol", s.security_protocol);
  if (s.ssl_ca) set_property(c, "ssl.ca.location", *s.ssl_ca);
  if (s.ssl_cert) set_property(c, "ssl.certificate.location", *s.ssl_cert);
  if (s.ssl_key) set_property(c, "ssl.key.location", *s.ssl_key);
  if (s.ssl_key_password) set_property(c, "ssl.key.password", *s.ssl_key_password);
  if (s.sasl_mechanism) set_property(c, "sasl.mechanisms", *s.sasl_mechanism);
  if (s.sasl_username) set_property(c, "sasl.username", *s.sasl_username);
  if (s.sasl_password) set_property(c, "sasl.password", *s.sasl_password);

  if (role == ClientRole::producer) {
    // Idempotence gives ordered, duplicate-free retries; a failure librdkafka
    // gives up on is reported and stops the source instead of being dropped.
    set_property(c, "enable.idempotence", "true");
    set_property(c, "acks", "all");
    set_property(c, "linger.ms", "5");
    set_property(c, "batch.num.messages", "10000");
    set_property(c, "compression.codec", s.compression);
  } else {
    // Offsets are committed by the sink runner after the sink made a batch
    // durable, never in the background.
    set_property(c, "enable.auto.commit", "false");
    set_property(c, "enable.auto.offset.store", "false");
    // Falling behind past what the broker keeps must be an error, not a skip.
    set_property(c, "auto.offset.reset", "error");
    // Bounded prefetch: memory stays flat however far behind the consumer is.
    // Enough to keep a sink busy while it writes a batch, no more: measured
    // with a PostgreSQL sink (1M records behind, 32 partitions), 32 MB here
    // and 16 MB fetches gave a 216 MB peak RSS, 4 MB 64-67 MB and 2 MB 56-57 MB
    // at the same rate, once fetching resumes as soon as the queue has room
    // (FetchWaker; before it, the rate followed the queue's size). librdkafka
    // keeps a few hundred bytes per queued message besides its payload. The
    // byte cap is the only limit that binds: a per-partition message minimum
    // below a batch's size starves a sink that consumes in bursts (measured:
    // 76k vs 530k rows/s into PostgreSQL).
    set_property(c, "queued.max.messages.kbytes", "2048");
    set_property(c, "queued.min.messages", "1000000");
    set_property(c, "fetch.max.bytes", "2097152");
    set_property(c, "max.partition.fetch.bytes", "262144");
    set_property(c, "fetch.wait.max.ms", "50");
    set_property(c, "fetch.error.backoff.ms", "50");
  }
  // The user's own properties come last, so they win.
  for (const auto& [k, v] : s.librdkafka) set_property(c, k, v);
  return conf;
}

}  // namespace sluice
