#include "run/progress.h"

#include <spdlog/spdlog.h>

#include "kafka/producer.h"
#include "run/sink_runner.h"
#include "run/source_runner.h"

namespace sluice {

namespace {
// Only pipelines with transforms drop or reject; others keep the short line.
std::string transformed(uint64_t dropped, uint64_t rejected) {
  if (!dropped && !rejected) return {};
  return fmt::format(", dropped {}, rejected {}", dropped, rejected);
}
}  // namespace

Progress::Progress(std::string pipeline, const std::vector<std::unique_ptr<SourceRunner>>& sources,
                   const std::vector<std::unique_ptr<SinkRunner>>& sinks, const Producer* producer)
    : pipeline_(std::move(pipeline)),
      sources_(sources),
      sinks_(sinks),
      producer_(producer),
      last_(sources.size() + sinks.size(), 0),
      last_at_(std::chrono::steady_clock::now()) {}

void Progress::report() {
  auto now = std::chrono::steady_clock::now();
  double seconds = std::max(1e-3, std::chrono::duration<double>(now - last_at_).count());
  last_at_ = now;
  std::string line = pipeline_ + ":";
  size_t i = 0;
  auto rate = [&](uint64_t total) {
    uint64_t delta = total - last_[i];
    last_[i++] = total;
    return static_cast<uint64_t>(static_cast<double>(delta) / seconds);
  };
  for (const auto& s : sources_) {
    uint64_t total = s->emitted();
    line += fmt::format(" {} -> {} {}/s ({} total{})", s->name(), s->topic(), rate(total), total,
                        transformed(s->dropped(), s->rejected()));
  }
  if (producer_)
    line += fmt::format(" | acked {}{}", producer_->delivered(),
                        producer_->failed() ? fmt::format(", FAILED {}", producer_->failed()) : "");
  for (const auto& s : sinks_) {
    uint64_t total = s->written();
    line += fmt::format(" | {} <- {} {}/s ({} total, lag {}{})", s->name(), s->topic(), rate(total),
                        total, s->lag(), transformed(s->dropped(), s->rejected()));
  }
  spdlog::info("{}", line);
}

}  // namespace sluice
