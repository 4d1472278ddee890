// sluice.h: the log callback and level.
#include <algorithm>
#include <memory>
#include <mutex>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "config/redaction.h"
#include "embed/log_switch.h"
#include "sluice.h"

namespace sluice::embed {

namespace {

int level_of(spdlog::level::level_enum l) {
  switch (l) {
    case spdlog::level::trace:
    case spdlog::level::debug: return SLUICE_LOG_DEBUG;
    case spdlog::level::info: return SLUICE_LOG_INFO;
    case spdlog::level::warn: return SLUICE_LOG_WARNING;
    default: return SLUICE_LOG_ERROR;
  }
}

// Hands each line to the host's callback, or to stderr when it set none.
// base_sink's mutex makes the calls one at a time.
class SwitchSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  SwitchSink() : stderr_(std::make_shared<spdlog::sinks::stderr_color_sink_mt>()) {}

  void set_callback(sluice_log_fn fn, void* user) {
    std::lock_guard lock(base_sink<std::mutex>::mutex_);
    fn_ = fn;
    user_ = user;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    if (!fn_) return stderr_->log(msg);
    text_.assign(msg.payload.data(), msg.payload.size());
    fn_(user_, level_of(msg.level), text_.c_str());
  }
  void flush_() override { stderr_->flush(); }
  void set_pattern_(const std::string& pattern) override { stderr_->set_pattern(pattern); }
  void set_formatter_(std::unique_ptr<spdlog::formatter> f) override { stderr_->set_formatter(std::move(f)); }

 private:
  std::shared_ptr<spdlog::sinks::sink> stderr_;
  sluice_log_fn fn_ = nullptr;
  void* user_ = nullptr;
  std::string text_;
};

std::shared_ptr<SwitchSink> switch_sink() {
  static const auto sink = std::make_shared<SwitchSink>();
  return sink;
}

void install_switch_logger() {
  static std::once_flag once;
  std::call_once(once, [] {
    auto logger = std::make_shared<spdlog::logger>("sluice", redacting_sink(switch_sink()));
    logger->set_level(spdlog::get_level());
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
    spdlog::set_default_logger(logger);
  });
}

}  // namespace

void ensure_logger() {
  // The CLI names its logger "sluice" too and installs it before anything runs.
  if (spdlog::default_logger_raw()->name() != "sluice") install_switch_logger();
}

}  // namespace sluice::embed

extern "C" {

void sluice_set_log_callback(sluice_log_fn callback, void* user) {
  try {
    sluice::embed::install_switch_logger();
    sluice::embed::switch_sink()->set_callback(callback, user);
  } catch (...) {
  }
}

void sluice_set_log_level(int level) {
  static const spdlog::level::level_enum levels[] = {spdlog::level::debug, spdlog::level::info, spdlog::level::warn,
                                                     spdlog::level::err};
  spdlog::set_level(levels[std::clamp(level, 0, 3)]);
}

}  // extern "C"
