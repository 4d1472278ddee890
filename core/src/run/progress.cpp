#include "run/progress.h"

#include <spdlog/spdlog.h>

#include "kafka/producer.h"
#include "observe/telemetry.h"
#include "run/sink_runner.h"
#include "run/source_runner.h"

namespace sluice {

namespace {
// Only pipelines with transforms drop or reject; others keep the short line.
std::string transformed(uint64_t dropped, uint64_t rejected) {
  if (!dropped && !rejected) return {};
  return fmt::format(", dropped {}, rejected {}", dropped, rejected);
}

// ", 2.5s behind": the age of the oldest record not yet written, where the
// sink reports it (its telemetry's lag; max over partitions).
std::string lag_seconds(const Telemetry& telemetry, const std::string& sink) {
  for (const auto& step : telemetry.steps()) {
    if (step->kind != "sink" || step->name != sink) continue;
    auto lag = step->lag();
    if (lag.empty()) return {};
    double seconds = 0;
    for (const auto& p : lag) seconds = std::max(seconds, p.seconds);
    return fmt::format(", {:.1f}s behind", seconds);
  }
  return {};
}
}  // namespace

Progress::Progress(std::string pipeline, const std::vector<std::unique_ptr<SourceRunner>>& sources,
                   const std::vector<std::unique_ptr<SinkRunner>>& sinks, const Producer* producer,
                   const Telemetry& telemetry)
    : pipeline_(std::move(pipeline)),
      sources_(sources),
      sinks_(sinks),
      producer_(producer),
      telemetry_(telemetry),
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
    line += fmt::format(" | {} <- {} {}/s ({} total, lag {}{}, rejected {}{})", s->name(), s->topic(), rate(total),
                        total, s->lag(), lag_seconds(telemetry_, s->name()), s->rejected(),
                        s->dropped() ? fmt::format(", dropped {}", s->dropped()) : "");
  }
  spdlog::info("{}", line);
}

}  // namespace sluice
