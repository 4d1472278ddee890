#include "cli/connect_check.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string_view>

#include "kafka/client_config.h"
#include "kafka/handles.h"
#include "sluice/error.h"

namespace sluice::cli {

namespace {

using Clock = std::chrono::steady_clock;

// How many partitions of a sink's topic are read for recent records.
constexpr int kSampledPartitions = 4;

struct TopicUse {
  bool produced = false;  // a source (or its dead-letter topic) writes it
};

struct AdminDeleter {
  void operator()(rd_kafka_AdminOptions_t* p) const { rd_kafka_AdminOptions_destroy(p); }
  void operator()(rd_kafka_ConfigResource_t* p) const { rd_kafka_ConfigResource_destroy(p); }
  void operator()(rd_kafka_event_t* p) const { rd_kafka_event_destroy(p); }
};

// The broker's auto.create.topics.enable, asked by DescribeConfigs (read
// only); nullopt when the broker does not say (not supported, or not
// allowed to this role).
std::optional<bool> broker_creates_topics(rd_kafka_t* client, int32_t broker, std::chrono::milliseconds timeout) {
  std::unique_ptr<rd_kafka_AdminOptions_t, AdminDeleter> options(
      rd_kafka_AdminOptions_new(client, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS));
  char error[256];
  rd_kafka_AdminOptions_set_request_timeout(options.get(), static_cast<int>(timeout.count()), error, sizeof error);
  std::unique_ptr<rd_kafka_ConfigResource_t, AdminDeleter> resource(
      rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_BROKER, std::to_string(broker).c_str()));
  KafkaQueue queue(rd_kafka_queue_new(client));
  rd_kafka_ConfigResource_t* resources[] = {resource.get()};
  rd_kafka_DescribeConfigs(client, resources, 1, options.get(), queue.get());
  // The request timeout ends it; the slack only covers the reply's delivery.
  std::unique_ptr<rd_kafka_event_t, AdminDeleter> event(
      rd_kafka_queue_poll(queue.get(), static_cast<int>(timeout.count()) + 1000));
  if (!event || rd_kafka_event_error(event.get())) return std::nullopt;
  const rd_kafka_DescribeConfigs_result_t* result = rd_kafka_event_DescribeConfigs_result(event.get());
  size_t count = 0;
  const rd_kafka_ConfigResource_t** described = result ? rd_kafka_DescribeConfigs_result_resources(result, &count)
                                                       : nullptr;
  if (count != 1 || rd_kafka_ConfigResource_error(described[0])) return std::nullopt;
  size_t entries = 0;
  const rd_kafka_ConfigEntry_t** configs = rd_kafka_ConfigResource_configs(described[0], &entries);
  for (size_t i = 0; i < entries; ++i) {
    const char* name = rd_kafka_ConfigEntry_name(configs[i]);
    const char* value = rd_kafka_ConfigEntry_value(configs[i]);
    if (name && value && std::string_view(name) == "auto.create.topics.enable") return std::string_view(value) == "true";
  }
  return std::nullopt;
}

}  // namespace

struct KafkaConnectCheck::State {
  const PipelineConfig& config;
  std::chrono::milliseconds timeout;
  // What librdkafka reports on its own (connection refused, TLS handshake,
  // SASL): the reason a metadata request timed out. Its error callback runs
  // in rd_kafka_poll; the lock keeps that so wherever librdkafka calls it.
  std::mutex mutex;
  std::vector<std::pair<int, std::string>> errors;
  KafkaHandle client;
  std::map<std::string, int> partitions;  // topics the cluster has, with their partition counts
  bool reached = false;

  State(const PipelineConfig& c, std::chrono::milliseconds t) : config(c), timeout(t) {}

  int timeout_ms() const { return static_cast<int>(timeout.count()); }

  // The most telling error librdkafka reported: authentication first, then
  // TLS, then the first other one; "all brokers are down" only says less.
  std::optional<std::pair<int, std::string>> reported_error() {
    std::lock_guard lock(mutex);
    for (int wanted : {RD_KAFKA_RESP_ERR__AUTHENTICATION, RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED,
                       RD_KAFKA_RESP_ERR__SSL})
      for (const auto& e : errors)
        if (e.first == wanted) return e;
    for (const auto& e : errors)
      if (e.first != RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) return e;
    return errors.empty() ? std::nullopt : std::optional(errors.front());
  }
};

KafkaConnectCheck::KafkaConnectCheck(const PipelineConfig& config, std::chrono::milliseconds timeout)
    : state_(std::make_unique<State>(config, timeout)) {}

KafkaConnectCheck::~KafkaConnectCheck() {
  if (state_->client) rd_kafka_consumer_close(state_->client.get());
}

std::vector<CheckLine> KafkaConnectCheck::run() {
  State& s = *state_;
  const KafkaSettings& settings = s.config.kafka;
  if (settings.embedded())
    return {{true, "kafka", "embedded broker: nothing to contact (sluice starts it in-process and creates the topics)"}};
  const std::string& servers = settings.bootstrap_servers;
  KafkaConf conf;
  try {
    conf = make_client_conf(settings, servers, ClientRole::consumer);
    // A metadata request must never create a topic; the group is only a
    // name (nothing subscribes, commits or joins).
    set_property(conf.get(), "allow.auto.create.topics", "false");
    set_property(conf.get(), "group.id", "sluice-check");
    set_property(conf.get(), "enable.auto.commit", "false");  // whatever [kafka.librdkafka] says
    set_property(conf.get(), "log.connection.close", "false");
    set_property(conf.get(), "enable.partition.eof", "true");
  } catch (const Error& e) {
    return {{false, "kafka", e.what()}};
  }
  rd_kafka_conf_set_opaque(conf.get(), &s);
  rd_kafka_conf_set_error_cb(conf.get(), [](rd_kafka_t*, int err, const char* reason, void* opaque) {
    auto* state = static_cast<State*>(opaque);
    std::lock_guard lock(state->mutex);
    if (state->errors.size() < 32) state->errors.emplace_back(err, reason ? reason : "");
  });
  // Its log says the same as the error callback, at length.
  rd_kafka_conf_set_log_cb(conf.get(), [](const rd_kafka_t*, int, const char*, const char*) {});
  char error[512];
  rd_kafka_t* client = rd_kafka_new(RD_KAFKA_CONSUMER, conf.get(), error, sizeof error);
  if (!client) return {{false, "kafka", std::string("librdkafka refuses these settings: ") + error}};
  (void)conf.release();  // the client owns it now
  s.client.reset(client);

  std::vector<CheckLine> lines;
  const rd_kafka_metadata_t* raw = nullptr;
  const auto start = Clock::now();
  // All topics: a request naming none never makes the broker create one.
  rd_kafka_resp_err_t err = rd_kafka_metadata(client, 1, nullptr, &raw, s.timeout_ms());
  KafkaMetadata metadata(raw);
  if (err) {
    rd_kafka_poll(client, 0);  // serves the error callbacks queued meanwhile
    auto reported = s.reported_error();
    std::string why = reported ? reported->second
                      : err == RD_KAFKA_RESP_ERR__TRANSPORT
                          ? "no broker became usable (connected without an answer, or still connecting)"
                          : rd_kafka_err2str(err);
    if (reported && (reported->first == RD_KAFKA_RESP_ERR__AUTHENTICATION ||
                     reported->first == RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED))
      lines.push_back({false, "kafka", "authentication failed: " + why});
    else
      lines.push_back({false, "kafka", servers + ": no metadata within " + std::to_string(s.timeout.count()) +
                                           " ms: " + why});
    return lines;
  }
  s.reached = true;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  lines.push_back({true, "kafka", servers + ": metadata in " + std::to_string(ms) + " ms (" +
                                      std::to_string(metadata->broker_cnt) + " broker(s), " +
                                      std::to_string(metadata->topic_cnt) + " topic(s))"});
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    const auto& t = metadata->topics[i];
    if (t.err == RD_KAFKA_RESP_ERR_NO_ERROR) s.partitions[t.topic] = t.partition_cnt;
  }

  const int32_t first_broker = metadata->broker_cnt > 0 ? metadata->brokers[0].id : -1;
  std::optional<std::optional<bool>> auto_create;  // asked once, when a produced topic is missing
  std::map<std::string, TopicUse> topics;
  for (const auto& source : s.config.sources) {
    topics[source.topic].produced = true;
    if (!source.transforms.dead_letter_topic.empty()) topics[source.transforms.dead_letter_topic].produced = true;
  }
  for (const auto& sink : s.config.sinks) topics[sink.topic];
  for (const auto& [topic, use] : topics) {
    if (auto it = s.partitions.find(topic); it != s.partitions.end()) {
      lines.push_back({true, "kafka", "topic " + topic + " exists (" + std::to_string(it->second) + " partitions)"});
      continue;
    }
    // Not asked for by name: a broker that speaks Metadata below v4 (the
    // embedded one among them) creates a topic it is asked about. A listing
    // of all topics leaves out those this role may not describe, so a
    // missing topic and a hidden one look the same here.
    const std::string missing = "topic " + topic + " does not exist (or this role may not describe it)";
    if (use.produced) {
      // sluice does not create topics on a cluster: its producer's first
      // request does, where the broker allows it.
      if (!auto_create) auto_create = broker_creates_topics(client, first_broker, s.timeout);
      if (*auto_create == std::optional<bool>(false))
        lines.push_back({false, "kafka", missing + ", and the broker does not create topics "
                                         "(auto.create.topics.enable = false): create it first"});
      else
        lines.push_back({true, "kafka", missing + "; the producer's first request creates it " +
                                            (*auto_create ? "(the broker has auto.create.topics.enable = true)"
                                                          : "if the broker allows auto-creation (its "
                                                            "auto.create.topics.enable could not be read)")});
    } else
      lines.push_back({false, "kafka", "topic " + topic + " does not exist (or this role may not describe it), and "
                                       "no source of this pipeline writes it"});
  }
  return lines;
}

std::vector<std::string> KafkaConnectCheck::recent_records(const std::string& topic, std::string& note,
                                                           std::vector<CheckLine>& problems,
                                                           std::vector<std::string>& origins) {
  State& s = *state_;
  std::vector<std::string> records;
  if (s.config.kafka.embedded()) return note = "the embedded broker starts empty", records;
  if (!s.reached) return note = "Kafka was not reached", records;
  auto it = s.partitions.find(topic);
  if (it == s.partitions.end()) return note = "topic " + topic + " does not exist yet", records;
  rd_kafka_t* client = s.client.get();
  // The last record of each partition, by assignment at "one before the
  // end": no group join, no offset fetched or committed, and every wait is
  // this loop's own (a watermark query can outlast its timeout while a
  // partition leader cannot be reached).
  KafkaPartitions wanted(rd_kafka_topic_partition_list_new(kSampledPartitions));
  std::set<int32_t> pending;
  for (int32_t p = 0; p < std::min(it->second, kSampledPartitions); ++p) {
    rd_kafka_topic_partition_list_add(wanted.get(), topic.c_str(), p)->offset = RD_KAFKA_OFFSET_TAIL(1);
    pending.insert(p);
  }
  if (rd_kafka_resp_err_t err = rd_kafka_assign(client, wanted.get()))
    return note = std::string("reading ") + topic + ": " + rd_kafka_err2str(err), records;
  const auto deadline = Clock::now() + s.timeout;
  bool refused = false;
  while (!pending.empty() && Clock::now() < deadline) {
    KafkaMessage m(rd_kafka_consumer_poll(client, 100));
    if (!m) continue;
    if (m->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED) {
      refused = true;
      break;
    }
    // The end of a partition (enable.partition.eof): it holds no record.
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) pending.erase(m->partition);
    if (m->err) continue;
    if (pending.erase(m->partition)) {
      records.emplace_back(m->payload ? static_cast<const char*>(m->payload) : "", m->len);
      origins.push_back("topic " + topic + ", partition " + std::to_string(m->partition) + ", offset " +
                        std::to_string(m->offset));
    }
  }
  rd_kafka_assign(client, nullptr);
  if (refused) {
    problems.push_back({false, "kafka", "not authorised to read topic " + topic});
    return note = "topic " + topic + " may not be read", records;
  }
  if (!pending.empty()) {
    // A listing works but reading does not: a partition leader that cannot
    // be reached (e.g. advertised at an address this host cannot use).
    rd_kafka_poll(client, 0);
    auto reported = s.reported_error();
    problems.push_back({false, "kafka", "reading topic " + topic + ": partition " + std::to_string(*pending.begin()) +
                                            " gave neither a record nor its end within " +
                                            std::to_string(s.timeout.count()) + " ms" +
                                            (reported ? " (" + reported->second + ")" : "")});
    return note = "topic " + topic + " could not be read", records;
  }
  if (records.empty()) note = "topic " + topic + " holds no records yet";
  return records;
}

}  // namespace sluice::cli
