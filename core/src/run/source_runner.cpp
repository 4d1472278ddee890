#include "run/source_runner.h"

namespace sluice {

SourceRunner::SourceRunner(const StepConfig& step, std::unique_ptr<Source> source,
                           Producer& producer, StopSignal& stop)
    : name_(step.name),
      topic_name_(step.topic),
      source_(std::move(source)),
      producer_(producer),
      topic_(producer.topic(step.topic)),
      stop_(stop) {
  if (auto it = step.values.find("key"); it != step.values.end())
    if (auto* field = std::get_if<std::string>(&it->second)) key_.emplace(*field);
}

void SourceRunner::run() { source_->run(*this); }

void SourceRunner::emit(std::string_view value, std::optional<std::string_view> key) {
  if (!key && key_) key = key_->extract(value);
  producer_.produce(topic_, key, value, stop_.flag());
  emitted_.fetch_add(1, std::memory_order_relaxed);
}

bool SourceRunner::wait_for(double seconds) {
  if (seconds <= 0) return !stop_.requested();
  return !stop_.wait_for(std::chrono::duration<double>(seconds));
}

}  // namespace sluice
