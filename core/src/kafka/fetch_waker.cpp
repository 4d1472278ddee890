#include "kafka/fetch_waker.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "kafka/handles.h"

namespace sluice {

namespace {
// Armed at three quarters of a cap (librdkafka stops at the cap, and a
// fetch response can overshoot it), fired at half: the fetcher then has
// half a queue of time to refill it before the sink runs dry.
constexpr double kArmAt = 0.75, kWakeAt = 0.5;
// A wake-up that does not come back in time changes nothing: librdkafka
// wakes its thread on its own within a second anyway.
constexpr int kRequestTimeoutMs = 2000;
}  // namespace

double QueueFill::fill(int64_t queued) const {
  const double mean = static_cast<double>(polled_bytes_) / static_cast<double>(polled_messages_);
  const double by_bytes = max_bytes_ > 0 ? static_cast<double>(queued) * mean / static_cast<double>(max_bytes_) : 0;
  const double by_count = max_messages_ > 0 ? static_cast<double>(queued) / static_cast<double>(max_messages_) : 0;
  return std::max(by_bytes, by_count);
}

bool QueueFill::after_poll(int64_t queued, int64_t messages, int64_t bytes) {
  polled_messages_ += messages;
  polled_bytes_ += bytes;
  if (polled_messages_ == 0) return false;
  // A poll may take a whole full queue at once: what it held before counts.
  if (fill(queued + messages) >= kArmAt) armed_ = true;
  if (!armed_ || fill(queued) > kWakeAt) return false;
  armed_ = false;
  return true;
}

FetchWaker::FetchWaker(rd_kafka_t* rk, std::string topic) : rk_(rk), topic_(std::move(topic)) {
  thread_ = std::thread([this] { loop(); });
}

FetchWaker::~FetchWaker() { stop(); }

void FetchWaker::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void FetchWaker::set_partitions(std::vector<int32_t> partitions) {
  std::lock_guard lock(mutex_);
  partitions_ = std::move(partitions);
}

void FetchWaker::wake() {
  {
    std::lock_guard lock(mutex_);
    asked_ = true;
  }
  cv_.notify_all();
}

void FetchWaker::loop() {
  rd_kafka_resp_err_t last_err = RD_KAFKA_RESP_ERR_NO_ERROR;
  std::unique_lock lock(mutex_);
  while (true) {
    cv_.wait(lock, [this] { return asked_ || stopping_; });
    if (stopping_) return;
    asked_ = false;
    if (partitions_.empty()) continue;
    KafkaPartitions list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions_.size())));
    for (int32_t p : partitions_)  // the newest offset: a query the leader answers from memory
      rd_kafka_topic_partition_list_add(list.get(), topic_.c_str(), p)->offset = RD_KAFKA_OFFSET_END;
    lock.unlock();
    // Sent through each partition's leader, whose thread wakes to send it.
    rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(rk_, list.get(), kRequestTimeoutMs);
    wakeups_.fetch_add(1, std::memory_order_relaxed);
    // Only a hint: a failure costs the wait librdkafka would have had anyway.
    if (err && err != last_err)
      spdlog::debug("{}: waking the fetcher: {} (it resumes by itself within a second)", topic_, rd_kafka_err2str(err));
    last_err = err;
    lock.lock();
  }
}

}  // namespace sluice
