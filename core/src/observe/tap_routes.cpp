#include "observe/tap_routes.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <memory>
#include <thread>

#include <httplib.h>
#include <simdjson.h>
#include <spdlog/fmt/fmt.h>

#include "observe/status_json.h"
#include "observe/telemetry.h"

namespace sluice {

// append_json_text: defined once, in status_json.cpp (the same function came from two branches).

namespace {

// JSON a record line may embed as is: valid (simdjson also checks UTF-8),
// on one line (whitespace between tokens may hold newlines; strings may not).
bool append_if_json(std::string& out, std::string_view value) {
  thread_local simdjson::dom::parser parser;
  if (value.empty() || parser.parse(value.data(), value.size(), true).error()) return false;
  const size_t start = out.size();
  out += value;
  std::replace_if(out.begin() + static_cast<std::ptrdiff_t>(start), out.end(),
                  [](char c) { return c == '\n' || c == '\r'; }, ' ');
  return true;
}

void append_position(std::string& out, std::string_view step, std::string_view topic, int32_t partition,
                     int64_t offset, double unix_time) {
  out += "{\"step\":";
  append_json_text(out, step);
  out += ",\"topic\":";
  append_json_text(out, topic);
  // A source's records are not yet in Kafka: no partition, no offset.
  out += partition < 0 ? std::string(",\"partition\":null") : fmt::format(",\"partition\":{}", partition);
  out += offset < 0 ? std::string(",\"offset\":null") : fmt::format(",\"offset\":{}", offset);
  out += fmt::format(",\"time\":{:.3f}", unix_time);
}

template <class T>
T param(const httplib::Request& req, const char* name, T fallback, T lo, T hi) {
  if (!req.has_param(name)) return fallback;
  const std::string text = req.get_param_value(name);
  T v{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return fallback;
  return std::clamp(v, lo, hi);
}

void error_reply(httplib::Response& res, int status, std::string_view message) {
  std::string body = "{\"error\":";
  append_json_text(body, message);
  body += "}\n";
  res.status = status;
  res.set_content(body, "application/json");
}

// The step a request names, or null with the reply (400, 404) set.
StepTelemetry* find_step(const Telemetry& telemetry, const httplib::Request& req, httplib::Response& res,
                         bool required) {
  const std::string name = req.get_param_value("step");
  if (name.empty()) {
    if (required) error_reply(res, 400, "the parameter step=NAME is required");
    return nullptr;
  }
  std::string known;
  for (const auto& s : telemetry.steps()) {
    if (s->name == name) return s.get();
    known += (known.empty() ? "" : ", ") + s->name;
  }
  error_reply(res, 404, "no step named \"" + name + "\"; the steps are: " + known);
  return nullptr;
}

using Clock = std::chrono::steady_clock;
// How long one call of the content provider waits for a record: what a
// server stop or a client gone may wait for.
constexpr auto kSlice = std::chrono::milliseconds(200);

// Streams at once: each holds one of the server's threads (cpp-httplib's
// pool has 8 by default) for up to its wait, so that /metrics, /health and
// /ready stay answered however many taps are opened.
constexpr int kMaxStreams = 6;

// Counts a stream for as long as it lives.
class StreamSlot {
 public:
  explicit StreamSlot(std::shared_ptr<std::atomic<int>> open) : open_(std::move(open)) {}
  StreamSlot(const StreamSlot&) = delete;
  StreamSlot& operator=(const StreamSlot&) = delete;
  ~StreamSlot() { open_->fetch_sub(1); }

 private:
  std::shared_ptr<std::atomic<int>> open_;
};

struct TapStream {
  explicit TapStream(std::shared_ptr<std::atomic<int>> open) : slot(std::move(open)) {}
  StreamSlot slot;
  StepTelemetry* step = nullptr;
  RecentRejects* ring = nullptr;
  bool rejects = false;
  size_t remaining = 0;
  Clock::time_point deadline;
  Tap tap;
  uint64_t after = 0;  // rejects: the last number sent

  // The lines ready now (waiting up to kSlice for one).
  std::string next_lines() {
    std::string lines;
    if (rejects) {
      auto found = ring->since(after, step->name);
      if (found.empty()) std::this_thread::sleep_for(kSlice);
      for (auto& [n, r] : found) {
        after = n;
        if (remaining == 0) break;
        lines += reject_json(r) + '\n';
        --remaining;
      }
      return lines;
    }
    TapRecord record;
    auto wait = kSlice;
    while (remaining > 0 && tap.queue().pop(record, wait)) {
      lines += tap_record_json(step->name, record) + '\n';
      --remaining;
      wait = std::chrono::milliseconds(0);  // take what is there, then send
    }
    return lines;
  }
};

void serve_tap(Telemetry& telemetry, const std::shared_ptr<std::atomic<int>>& open, const httplib::Request& req,
               httplib::Response& res) {
  StepTelemetry* step = find_step(telemetry, req, res, true);
  if (!step) return;
  if (open->fetch_add(1) >= kMaxStreams) {
    open->fetch_sub(1);
    error_reply(res, 503, fmt::format("{} taps are open already, the most at once: try again when one ends",
                                      kMaxStreams));
    return;
  }
  auto stream = std::make_shared<TapStream>(open);
  stream->step = step;
  stream->ring = &telemetry.rejects();
  stream->rejects = req.has_param("rejects") && req.get_param_value("rejects") != "0";
  stream->remaining = param<size_t>(req, "limit", 10, 1, 1000);
  stream->deadline = Clock::now() + std::chrono::milliseconds(param<int64_t>(req, "wait", 10, 0, 3600) * 1000);
  if (stream->rejects) {
    // First the latest the ring holds for this step, as many as asked.
    auto held = stream->ring->since(0, step->name);
    if (held.size() > stream->remaining) stream->after = held[held.size() - stream->remaining - 1].first;
  } else {
    stream->tap = step->tap.open();
  }
  res.set_header("Cache-Control", "no-store");
  res.set_chunked_content_provider("application/x-ndjson", [stream](size_t, httplib::DataSink& sink) {
    if (stream->remaining == 0 || Clock::now() >= stream->deadline) {
      stream->tap.close();
      sink.done();
      return true;
    }
    std::string lines = stream->next_lines();
    return lines.empty() || sink.write(lines.data(), lines.size());  // false: the client went
  });
}

void serve_rejects(Telemetry& telemetry, const httplib::Request& req, httplib::Response& res) {
  StepTelemetry* step = find_step(telemetry, req, res, false);
  if (!step && res.status >= 400) return;
  const uint64_t after = param<uint64_t>(req, "after", 0, 0, UINT64_MAX);
  const size_t limit = param<size_t>(req, "limit", 100, 1, RecentRejects::kCapacity);
  auto found = telemetry.rejects().since(after, step ? std::string_view(step->name) : std::string_view());
  const size_t skip = found.size() > limit ? found.size() - limit : 0;  // the latest `limit`
  std::string body = fmt::format("{{\"last\":{},\"rejects\":[", telemetry.rejects().last());
  for (size_t i = skip; i < found.size(); ++i) {
    if (i > skip) body += ',';
    body += reject_json(found[i].second, found[i].first);
  }
  body += "]}\n";
  res.set_header("Cache-Control", "no-store");
  res.set_content(body, "application/json");
}

}  // namespace

std::string tap_record_json(std::string_view step, const TapRecord& record) {
  std::string out;
  out.reserve(record.value.size() + 160);
  append_position(out, step, record.topic, record.partition, record.offset, record.unix_time);
  out += ",\"key\":";
  if (record.key) append_json_text(out, *record.key);
  else out += "null";
  std::string embedded = ",\"record\":";
  if (!record.truncated && append_if_json(embedded, record.value)) {
    out += embedded;
  } else {
    out += ",\"record_text\":";
    append_json_text(out, record.value);
  }
  if (record.truncated) out += ",\"truncated\":true";
  out += '}';
  return out;
}

std::string reject_json(const RejectedRecord& r, uint64_t n) {
  std::string out;
  out.reserve(r.record.size() + r.reason.size() + 160);
  append_position(out, r.step, r.topic, r.partition, r.offset, r.unix_time);
  if (n > 0) out += fmt::format(",\"n\":{}", n);
  out += ",\"reason\":";
  append_json_text(out, r.reason);
  out += ",\"record_text\":";
  append_json_text(out, r.record);
  out += '}';
  return out;
}

void add_tap_routes(httplib::Server& server, Telemetry& telemetry) {
  auto open = std::make_shared<std::atomic<int>>(0);
  server.Get("/api/tap", [&telemetry, open](const httplib::Request& req, httplib::Response& res) {
    serve_tap(telemetry, open, req, res);
  });
  server.Get("/api/rejects", [&telemetry](const httplib::Request& req, httplib::Response& res) {
    serve_rejects(telemetry, req, res);
  });
}

}  // namespace sluice
