#include "kafka/producer.h"

#include <cerrno>
#include <memory>

#include <spdlog/spdlog.h>

#include "kafka/client_config.h"
#include "sluice/error.h"

namespace sluice {

Producer::Producer(const KafkaSettings& settings, const std::string& bootstrap) {
  KafkaConf conf = make_client_conf(settings, bootstrap, ClientRole::producer);
  rd_kafka_conf_set_opaque(conf.get(), this);
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &Producer::on_delivery);
  rd_kafka_conf_set_error_cb(conf.get(), &Producer::on_error);
  char err[512];
  rk_.reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), err, sizeof err));
  if (!rk_) throw Error(errc::config, std::string("kafka producer: ") + err);
  conf.release();
  // Delivery reports are served here so producing threads never wait on them.
  poller_ = std::thread([this] {
    while (!stop_polling_.load()) rd_kafka_poll(rk_.get(), 100);
  });
}

Producer::~Producer() {
  stop_polling_ = true;
  if (poller_.joinable()) poller_.join();
  rd_kafka_poll(rk_.get(), 0);
  topics_.clear();
}

DeliveryCounts* Producer::delivery_counts(DeliveryCounts counts) {
  std::lock_guard lock(mutex_);
  return &counts_.emplace_back(counts);
}

rd_kafka_topic_t* Producer::topic(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto& t = topics_[name];
  if (!t) {
    t.reset(rd_kafka_topic_new(rk_.get(), name.c_str(), nullptr));
    if (!t) throw Error(errc::config, "kafka topic `" + name + "`: " +
                                                rd_kafka_err2str(rd_kafka_last_error()));
  }
  return t.get();
}

void Producer::produce(rd_kafka_topic_t* topic, std::optional<std::string_view> key,
                       std::string_view value, const std::atomic<bool>& stopping, DeliveryCounts* counts) {
  produce(topic, key, value, {}, stopping, counts);
}

void Producer::produce(rd_kafka_topic_t* topic, std::optional<std::string_view> key, std::string_view value,
                       std::span<const std::pair<std::string_view, std::string_view>> headers,
                       const std::atomic<bool>& stopping, DeliveryCounts* counts) {
  throw_if_failed();
  for (;;) {
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (headers.empty()) {
      int rc = rd_kafka_produce(topic, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
                                const_cast<char*>(value.data()), value.size(),
                                key ? key->data() : nullptr, key ? key->size() : 0, counts);
      if (rc == 0) return;
      err = rd_kafka_last_error();
    } else {
      // librdkafka takes the headers only when the produce succeeds.
      std::unique_ptr<rd_kafka_headers_t, decltype(&rd_kafka_headers_destroy)> list(
          rd_kafka_headers_new(headers.size()), rd_kafka_headers_destroy);
      for (const auto& [name, text] : headers)
        rd_kafka_header_add(list.get(), name.data(), static_cast<ssize_t>(name.size()), text.data(),
                            static_cast<ssize_t>(text.size()));
      const char* key_data = key ? key->data() : nullptr;
      size_t key_size = key ? key->size() : 0;
      err = rd_kafka_producev(rk_.get(), RD_KAFKA_V_RKT(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                              RD_KAFKA_V_KEY(key_data, key_size),
                              RD_KAFKA_V_HEADERS(list.get()), RD_KAFKA_V_OPAQUE(counts), RD_KAFKA_V_END);
      if (!err) {
        (void)list.release();
        return;
      }
    }
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
      throw Error(errc::fatal, std::string("produce to `") + rd_kafka_topic_name(topic) +
                                         "`: " + rd_kafka_err2str(err));
    if (stopping.load(std::memory_order_relaxed))
      throw Error(errc::unavailable, "stopping while the producer queue is full");
    // The local queue is full: wait for deliveries to make room (backpressure).
    rd_kafka_poll(rk_.get(), 10);
    throw_if_failed();
  }
}

bool Producer::flush(std::chrono::milliseconds timeout) {
  return rd_kafka_flush(rk_.get(), static_cast<int>(timeout.count())) == RD_KAFKA_RESP_ERR_NO_ERROR;
}

std::string Producer::failure() const {
  std::lock_guard lock(failure_mutex_);
  return failure_;
}

void Producer::fail(std::string message) {
  std::lock_guard lock(failure_mutex_);
  if (failure_.empty()) {
    spdlog::error("{}", message);
    failure_ = std::move(message);
  }
  has_failure_ = true;
}

void Producer::throw_if_failed() const {
  if (has_failure_.load(std::memory_order_relaxed)) throw Error(errc::fatal, failure());
}

void Producer::on_delivery(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque) {
  auto* self = static_cast<Producer*>(opaque);
  auto* counts = static_cast<DeliveryCounts*>(msg->_private);  // the step's, given to produce()
  if (!msg->err) {
    self->delivered_.fetch_add(1, std::memory_order_relaxed);
    if (counts) {
      counts->records.add();
      counts->bytes.add(msg->len + msg->key_len);
    }
    return;
  }
  self->failed_.fetch_add(1, std::memory_order_relaxed);
  if (counts) counts->failures.add();
  // No exception may unwind through librdkafka's C frames (the text may not fit in memory).
  try {
    self->fail(std::string("delivery to ") + rd_kafka_topic_name(msg->rkt) + "/" +
               std::to_string(msg->partition) + " failed for good: " + rd_kafka_err2str(msg->err));
  } catch (...) {
    self->has_failure_ = true;
  }
}

void Producer::on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque) noexcept try {
  auto* self = static_cast<Producer*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    char fatal[512];
    rd_kafka_fatal_error(rk, fatal, sizeof fatal);
    self->fail(std::string("kafka producer fatal error: ") + fatal);
    return;
  }
  // Transient (broker down, connection refused): librdkafka retries. Say so
  // once per change of error, not once per attempt.
  std::lock_guard lock(self->failure_mutex_);
  if (self->last_transient_ != err) {
    self->last_transient_ = err;
    spdlog::warn("kafka producer: {} (librdkafka keeps retrying)", reason);
  }
} catch (...) {
  static_cast<Producer*>(opaque)->has_failure_ = true;  // out of memory while reporting a fatal error
}

}  // namespace sluice
