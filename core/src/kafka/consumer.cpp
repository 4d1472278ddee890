#include "kafka/consumer.h"

#include <utility>

#include <spdlog/spdlog.h>

#include "kafka/client_config.h"
#include "kafka/watermarks.h"
#include "sluice/error.h"

namespace sluice {

namespace {

constexpr std::chrono::seconds kWatermarkTimeout{10};

std::string where(const std::string& topic, int32_t partition, int64_t offset) {
  return topic + "/" + std::to_string(partition) + " at offset " + std::to_string(offset);
}

std::string expired_reason(int64_t log_start) {
  return "the offset to read is no longer kept by the broker (" +
         (log_start >= 0 ? "the log starts at " + std::to_string(log_start) + "; " : std::string()) +
         "the consumer fell behind its retention); records were lost upstream. on_expired = \"skip\" "
         "continues from the earliest offset kept";
}

std::string foreign_reason(int64_t high, const std::string& group) {
  return "the offset to read is above the partition's high watermark " + std::to_string(high) +
         ", so it was stored for another log (another broker, or the topic was recreated); reading on "
         "from it would skip records. To start this sink over on this log, delete the offsets stored "
         "for consumer group `" + group + "`";
}

void append(std::string& list, const std::string& item) { list += (list.empty() ? "" : "; ") + item; }

}  // namespace

Consumer::Consumer(const KafkaSettings& kafka, const std::string& bootstrap,
                   ConsumerSettings settings, RebalanceListener& listener)
    : settings_(std::move(settings)), listener_(listener) {
  KafkaConf conf = make_client_conf(kafka, bootstrap, ClientRole::consumer);
  set_property(conf.get(), "group.id", settings_.group);
  if (settings_.skip_expired) set_property(conf.get(), "auto.offset.reset", "earliest");
  rd_kafka_conf_set_opaque(conf.get(), this);
  rd_kafka_conf_set_rebalance_cb(conf.get(), &Consumer::on_rebalance);
  fill_.emplace(int_property(conf.get(), "queued.max.messages.kbytes") * 1024,
                int_property(conf.get(), "queued.min.messages"));
  char err[512];
  rk_.reset(rd_kafka_new(RD_KAFKA_CONSUMER, conf.get(), err, sizeof err));
  if (!rk_) throw Error(errc::config, std::string("kafka consumer: ") + err);
  conf.release();
  rd_kafka_poll_set_consumer(rk_.get());
  queue_.reset(rd_kafka_queue_get_consumer(rk_.get()));
  waker_ = std::make_unique<FetchWaker>(rk_.get(), settings_.topic);
  if (settings_.assign_directly) {
    assign_every_partition();
    return;
  }

  KafkaPartitions topics(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(topics.get(), settings_.topic.c_str(), RD_KAFKA_PARTITION_UA);
  if (rd_kafka_resp_err_t e = rd_kafka_subscribe(rk_.get(), topics.get()))
    throw Error(errc::fatal, "subscribe to `" + settings_.topic + "`: " + rd_kafka_err2str(e));
}

Consumer::~Consumer() {
  try {
    close();
  } catch (const std::exception& e) {
    spdlog::warn("kafka consumer close: {}", e.what());
  }
}

void Consumer::close() {
  if (closed_) return;
  closed_ = true;
  if (waker_) waker_->stop();  // its requests use the handle
  if (settings_.assign_directly && !assigned_.empty()) revoke_directly_assigned();
  queue_.reset();
  rd_kafka_consumer_close(rk_.get());
  rethrow_rebalance_error();
}

void Consumer::on_rebalance(rd_kafka_t*, rd_kafka_resp_err_t err,
                            rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  auto* self = static_cast<Consumer*>(opaque);
  // No exception may unwind through librdkafka's C frames: keep it for poll().
  try {
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS)
      self->assign(partitions);
    else
      self->revoke(partitions);
  } catch (...) {
    if (!self->rebalance_error_) self->rebalance_error_ = std::current_exception();
    if (err != RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) rd_kafka_assign(self->rk_.get(), nullptr);
  }
}

void Consumer::rethrow_rebalance_error() {
  if (auto e = std::exchange(rebalance_error_, nullptr)) std::rethrow_exception(e);
}

// No group to join, so no rebalance callback: every partition the topic has
// is assigned here, through the same steps a group's assignment takes.
void Consumer::assign_every_partition() {
  std::vector<int32_t> ids = partition_ids(rk_.get(), settings_.topic, kWatermarkTimeout);
  KafkaPartitions list(rd_kafka_topic_partition_list_new(static_cast<int>(ids.size())));
  for (int32_t p : ids) rd_kafka_topic_partition_list_add(list.get(), settings_.topic.c_str(), p);
  spdlog::info("{}: assigning its {} partitions directly: this process is the topic's only reader (the embedded "
               "broker), so no consumer group is joined", settings_.topic, ids.size());
  if (rd_kafka_resp_err_t err = assign(list.get()))
    throw Error(errc::fatal, "assign the partitions of `" + settings_.topic + "`: " + rd_kafka_err2str(err));
}

// What a group's revocation does on leaving, for partitions assigned directly.
void Consumer::revoke_directly_assigned() {
  KafkaPartitions list(rd_kafka_topic_partition_list_new(static_cast<int>(assigned_.size())));
  std::string described;
  for (int32_t p : assigned_) {
    rd_kafka_topic_partition_list_add(list.get(), settings_.topic.c_str(), p);
    described += (described.empty() ? "" : " ") + std::to_string(p);
  }
  spdlog::info("{}: revoking partitions {} on leaving (assigned directly)", settings_.topic, described);
  try {
    revoke(list.get());
  } catch (...) {
    // Kept for close() to throw once the handle has been closed.
    if (!rebalance_error_) rebalance_error_ = std::current_exception();
    rd_kafka_assign(rk_.get(), nullptr);
  }
}

rd_kafka_resp_err_t Consumer::assign(rd_kafka_topic_partition_list_t* partitions) {
  rd_kafka_resp_err_t err = rd_kafka_committed(rk_.get(), partitions, 30000);
  if (err)
    throw Error(errc::unavailable, "reading committed offsets of `" + settings_.topic +
                                           "`: " + rd_kafka_err2str(err));
  std::map<int32_t, int64_t> committed;
  std::vector<int32_t> all;
  for (int i = 0; i < partitions->cnt; ++i) {
    all.push_back(partitions->elems[i].partition);
    if (partitions->elems[i].offset >= 0)
      committed[partitions->elems[i].partition] = partitions->elems[i].offset;
  }
  std::map<int32_t, int64_t> start = listener_.on_assign(all, committed);
  const int64_t otherwise = settings_.start_from_latest ? RD_KAFKA_OFFSET_END
                            : settings_.fresh_log       ? 0
                                                        : RD_KAFKA_OFFSET_BEGINNING;
  for (int32_t p : all) start.emplace(p, otherwise);
  check_start_offsets(start);
  assigned_.clear();
  std::string described;
  for (int i = 0; i < partitions->cnt; ++i) {
    auto& tp = partitions->elems[i];
    tp.offset = start.at(tp.partition);
    assigned_.push_back(tp.partition);
    described += (described.empty() ? "" : " ") + std::to_string(tp.partition) + "@" +
                 (tp.offset >= 0 ? std::to_string(tp.offset) : "start");
  }
  spdlog::info("{}: assigned partitions {}", settings_.topic, described.empty() ? "none" : described);
  waker_->set_partitions(assigned_);
  return rd_kafka_assign(rk_.get(), partitions);
}

// A stored offset is checked against what the partition's log holds before
// anything is read from it. Above the high watermark it belongs to another
// log (a fresh broker, a recreated topic): reading on would skip the new
// log's records up to it. Below the log start its records are gone.
void Consumer::check_start_offsets(std::map<int32_t, int64_t>& start) {
  std::string foreign, expired;
  for (auto& [partition, offset] : start) {
    if (offset < 0) continue;  // a logical offset (beginning, end)
    LogRange log = log_range(rk_.get(), settings_.topic, partition, kWatermarkTimeout);
    if (offset > log.high) {
      append(foreign, where(settings_.topic, partition, offset) + ": " + foreign_reason(log.high, settings_.group));
    } else if (offset < log.low && settings_.skip_expired) {
      spdlog::warn("{}/{}: offsets {} to {} are no longer kept by the broker; on_expired = \"skip\": "
                   "continuing from {}", settings_.topic, partition, offset, log.low - 1, log.low);
      offset = log.low;
    } else if (offset < log.low) {
      append(expired, where(settings_.topic, partition, offset) + ": " + expired_reason(log.low));
    }
  }
  if (!foreign.empty()) throw Error(errc::offsets_foreign, foreign);
  if (!expired.empty()) throw Error(errc::offsets_expired, expired);
}

Error Consumer::out_of_range(int32_t partition, int64_t offset, const std::string& detail) {
  LogRange log{-1, -1};
  try {
    log = log_range(rk_.get(), settings_.topic, partition, kWatermarkTimeout);
  } catch (const Error& e) {
    spdlog::warn("{}", e.what());  // the broker's own word stands then
  }
  std::string place = where(settings_.topic, partition, offset);
  if (log.high >= 0 && offset > log.high)
    return Error(errc::offsets_foreign, place + ": " + foreign_reason(log.high, settings_.group) + ": " + detail);
  return Error(errc::offsets_expired, place + ": " + expired_reason(log.low) + ": " + detail);
}

void Consumer::revoke(rd_kafka_topic_partition_list_t* partitions) {
  std::vector<int32_t> revoked;
  for (int i = 0; i < partitions->cnt; ++i) revoked.push_back(partitions->elems[i].partition);
  listener_.on_revoke(revoked);
  assigned_.clear();
  waker_->set_partitions({});
  rd_kafka_assign(rk_.get(), nullptr);
}

void Consumer::poll(std::vector<KafkaMessage>& out, size_t max, std::chrono::milliseconds timeout) {
  if (max == 0) return;
  if (polled_.size() < max) polled_.resize(max);
  ssize_t n = rd_kafka_consume_batch_queue(queue_.get(), static_cast<int>(timeout.count()),
                                           polled_.data(), max);
  if (n > 0) {
    int64_t bytes = 0;
    for (ssize_t i = 0; i < n; ++i) bytes += static_cast<int64_t>(polled_[i]->len);
    if (fill_->after_poll(static_cast<int64_t>(rd_kafka_queue_length(queue_.get())), n, bytes)) waker_->wake();
  }
  // Owned at once, every one: an error thrown below must release the rest
  // too, or destroying the handle would wait for them forever.
  owned_.clear();
  for (ssize_t i = 0; i < n; ++i) owned_.emplace_back(polled_[i]);
  struct Release {
    std::vector<KafkaMessage>& messages;
    ~Release() { messages.clear(); }
  } release{owned_};
  rethrow_rebalance_error();
  if (n < 0) throw Error(errc::unavailable, std::string("consume: ") + rd_kafka_err2str(rd_kafka_last_error()));
  for (KafkaMessage& msg : owned_) {
    if (!msg->err) {
      last_warned_ = RD_KAFKA_RESP_ERR_NO_ERROR;
      out.push_back(std::move(msg));
      continue;
    }
    std::string place = where(msg->rkt ? std::string(rd_kafka_topic_name(msg->rkt)) : settings_.topic,
                              msg->partition, msg->offset);
    switch (msg->err) {
      case RD_KAFKA_RESP_ERR__PARTITION_EOF:
        break;
      case RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET:
      case RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE:
        throw out_of_range(msg->partition, msg->offset, rd_kafka_message_errstr(msg.get()));
      default:
        if (rd_kafka_fatal_error(rk_.get(), nullptr, 0))
          throw Error(errc::fatal, place + ": " + rd_kafka_message_errstr(msg.get()));
        // Transient: librdkafka retries. Log once per change, not per attempt.
        if (msg->err != last_warned_)
          spdlog::warn("{}: {} (librdkafka keeps retrying)", place, rd_kafka_message_errstr(msg.get()));
        last_warned_ = msg->err;
    }
  }
}

void Consumer::commit(const std::map<int32_t, int64_t>& next_offsets) {
  if (next_offsets.empty()) return;
  KafkaPartitions list(rd_kafka_topic_partition_list_new(static_cast<int>(next_offsets.size())));
  for (const auto& [partition, offset] : next_offsets)
    rd_kafka_topic_partition_list_add(list.get(), settings_.topic.c_str(), partition)->offset = offset;
  if (rd_kafka_resp_err_t err = rd_kafka_commit(rk_.get(), list.get(), 0))
    throw Error(errc::unavailable, "commit offsets of `" + settings_.topic + "`: " +
                                           rd_kafka_err2str(err));
}

void Consumer::seek(const std::map<int32_t, int64_t>& offsets) {
  if (offsets.empty()) return;
  KafkaPartitions list(rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
  for (const auto& [partition, offset] : offsets)
    rd_kafka_topic_partition_list_add(list.get(), settings_.topic.c_str(), partition)->offset = offset;
  KafkaError err(rd_kafka_seek_partitions(rk_.get(), list.get(), 30000));
  if (err) throw Error(errc::unavailable, "seek on `" + settings_.topic + "`: " + rd_kafka_error_string(err.get()));
  for (int i = 0; i < list->cnt; ++i)
    if (list->elems[i].err)
      throw Error(errc::unavailable, "seek " + settings_.topic + "/" + std::to_string(list->elems[i].partition) +
                                             ": " + rd_kafka_err2str(list->elems[i].err));
}

int64_t Consumer::lag() const {
  if (assigned_.empty()) return 0;
  KafkaPartitions list(rd_kafka_topic_partition_list_new(static_cast<int>(assigned_.size())));
  for (int32_t p : assigned_) rd_kafka_topic_partition_list_add(list.get(), settings_.topic.c_str(), p);
  rd_kafka_position(rk_.get(), list.get());
  int64_t total = 0;
  for (int i = 0; i < list->cnt; ++i) {
    int64_t low = 0, high = 0;
    if (rd_kafka_get_watermark_offsets(rk_.get(), settings_.topic.c_str(), list->elems[i].partition,
                                       &low, &high) != RD_KAFKA_RESP_ERR_NO_ERROR || high < 0)
      continue;
    int64_t position = list->elems[i].offset >= 0 ? list->elems[i].offset : low;
    if (high > position) total += high - position;
  }
  return total;
}

}  // namespace sluice
