#include "observe/tap.h"

#include <algorithm>

namespace sluice {

bool TapQueue::pop(TapRecord& out, std::chrono::milliseconds wait) {
  std::unique_lock lock(mutex_);
  if (!cv_.wait_for(lock, wait, [this] { return !queue_.empty(); })) return false;
  out = std::move(queue_.front());
  queue_.pop_front();
  return true;
}

void TapQueue::push(TapRecord record) {
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() >= capacity_) {
      queue_.pop_front();
      dropped_.fetch_add(1, std::memory_order_relaxed);
    }
    queue_.push_back(std::move(record));
  }
  cv_.notify_one();
}

Tap& Tap::operator=(Tap&& other) noexcept {
  if (this != &other) {
    close();
    hub_ = std::exchange(other.hub_, nullptr);
    queue_ = std::move(other.queue_);
  }
  return *this;
}

void Tap::close() {
  if (hub_ && queue_) hub_->close(queue_.get());
  hub_ = nullptr;
}

Tap TapHub::open(size_t capacity) {
  auto queue = std::make_shared<TapQueue>(capacity);
  std::lock_guard lock(mutex_);
  taps_.push_back(queue);
  open_.store(static_cast<uint32_t>(taps_.size()), std::memory_order_relaxed);
  return Tap(this, std::move(queue));
}

void TapHub::close(const TapQueue* queue) {
  std::lock_guard lock(mutex_);
  std::erase_if(taps_, [queue](const auto& q) { return q.get() == queue; });
  open_.store(static_cast<uint32_t>(taps_.size()), std::memory_order_relaxed);
}

void TapHub::offer(std::string_view topic, int32_t partition, int64_t offset, int64_t timestamp_ms,
                   std::optional<std::string_view> key, std::string_view value) {
  TapRecord record;
  record.topic = topic;
  record.partition = partition;
  record.offset = offset;
  record.unix_time = timestamp_ms >= 0
                         ? static_cast<double>(timestamp_ms) / 1000.0
                         : std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  if (key) record.key.emplace(*key);
  record.truncated = value.size() > TapRecord::kValueCut;
  record.value = value.substr(0, TapRecord::kValueCut);
  // Under the lock, so that a tap being closed meanwhile is either still
  // given the record or already gone; its queue outlives it while a reader
  // holds it.
  std::lock_guard lock(mutex_);
  if (taps_.empty()) return;  // closed since the hook looked
  for (size_t i = 0; i + 1 < taps_.size(); ++i) taps_[i]->push(record);
  taps_.back()->push(std::move(record));
  copies_.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace sluice
