#include "observe/json_log.h"

#include <chrono>
#include <ctime>
#include <mutex>

#include <spdlog/sinks/base_sink.h>

#include "observe/status_json.h"

namespace sluice {

namespace {

struct LogContext {
  std::mutex mutex;
  std::string pipeline;
  std::vector<std::string> steps;
};

LogContext& context() {
  static LogContext c;
  return c;
}

// "pg: write failed" -> "pg" when pg is a step.
std::string_view step_of(std::string_view message, const std::vector<std::string>& steps) {
  const size_t colon = message.find(": ");
  if (colon == std::string_view::npos) return {};
  const std::string_view head = message.substr(0, colon);
  for (const auto& s : steps)
    if (s == head) return head;
  return {};
}

class JsonLogSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit JsonLogSink(std::FILE* out) : out_(out) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count();
    const auto level = spdlog::level::to_string_view(msg.level);
    std::string line = json_log_line(ms, std::string_view(level.data(), level.size()),
                                     std::string_view(msg.payload.data(), msg.payload.size()));
    std::fwrite(line.data(), 1, line.size(), out_);
  }
  void flush_() override { std::fflush(out_); }

 private:
  std::FILE* out_;
};

}  // namespace

std::shared_ptr<spdlog::sinks::sink> json_log_sink(std::FILE* out) { return std::make_shared<JsonLogSink>(out); }

void set_log_context(std::string pipeline, std::vector<std::string> steps) {
  LogContext& c = context();
  std::lock_guard lock(c.mutex);
  c.pipeline = std::move(pipeline);
  c.steps = std::move(steps);
}

std::string json_log_line(int64_t unix_ms, std::string_view level, std::string_view message) {
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char time[40];
  const size_t n = std::strftime(time, sizeof time, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(time + n, sizeof time - n, ".%03dZ", static_cast<int>(unix_ms % 1000));
  std::string line = "{\"time\":\"";
  line += time;
  line += "\",\"level\":";
  append_json_text(line, level);
  LogContext& c = context();
  {
    std::lock_guard lock(c.mutex);
    line += ",\"pipeline\":";
    if (c.pipeline.empty()) line += "null";
    else append_json_text(line, c.pipeline);
    line += ",\"step\":";
    const std::string_view step = step_of(message, c.steps);
    if (step.empty()) line += "null";
    else append_json_text(line, step);
  }
  line += ",\"message\":";
  append_json_text(line, message);
  line += "}\n";
  return line;
}

}  // namespace sluice
