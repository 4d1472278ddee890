#include "observe/status_json.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <vector>

#include "config/redaction.h"
#include "observe/telemetry.h"
#include "sluice/json_text.h"
#include "sluice/utf8.h"

#ifndef SLUICE_VERSION
#define SLUICE_VERSION "unknown"
#endif

namespace sluice {

void append_json_text(std::string& out, std::string_view text) {
  if (first_invalid_utf8(text) == std::string_view::npos) {
    append_json_string(out, text);
    return;
  }
  std::string valid;
  valid.reserve(text.size() + 8);
  for (size_t i = 0; i < text.size();) {
    size_t len = utf8_sequence_length(text, i);
    if (len == 0) {
      valid += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
      ++i;
    } else {
      valid.append(text, i, len);
      i += len;
    }
  }
  append_json_string(out, valid);
}

namespace {

// JSON has no NaN or infinity: those are written as null.
void put_number(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  out += buf;
}

void put_key(std::string& out, std::string_view key) {
  append_json_string(out, key);  // keys are ours: plain ASCII
  out += ':';
}

void put_field(std::string& out, std::string_view key, std::string_view text) {
  put_key(out, key);
  append_json_text(out, text);
  out += ',';
}

// (Without it a literal would take the bool overload.)
void put_field(std::string& out, std::string_view key, const char* text) {
  put_field(out, key, std::string_view(text));
}

void put_field(std::string& out, std::string_view key, double v) {
  put_key(out, key);
  put_number(out, v);
  out += ',';
}

void put_field(std::string& out, std::string_view key, bool v) {
  put_key(out, key);
  out += v ? "true," : "false,";
}

// Drops the ',' after the last field of an object or array.
void close(std::string& out, char bracket) {
  if (out.back() == ',') out.pop_back();
  out += bracket;
}

double unix_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

// Only a sink's loop beats on a clock (each poll, and each second while its
// writer works); a source may rightly be quiet for minutes (stdin waiting
// for input, a check or poll interval longer than the bound), so its silence
// is not a stall.
bool stalled(const StepTelemetry& step) {
  return step.kind == "sink" && step.state() == StepState::up &&
         step.seconds_since_beat() > kStalledAfterSeconds;
}

void put_step(std::string& out, const StepTelemetry& step) {
  out += '{';
  put_field(out, "name", step.name);
  put_field(out, "kind", step.kind);
  put_field(out, "type", step.type);
  put_field(out, "topic", step.topic);
  put_key(out, "transforms");
  out += '[';
  for (const auto& t : step.transforms) {
    append_json_text(out, t);
    out += ',';
  }
  close(out, ']');
  out += ',';
  put_field(out, "state", state_name(step.state()));
  // A reason is an error's text: masked like every log line, in case a
  // library quoted a secret in it.
  put_field(out, "reason", redact_process(step.reason()));
  put_field(out, "records_in", static_cast<double>(step.records_in.value()));
  put_field(out, "records_out", static_cast<double>(step.records_out.value()));
  put_field(out, "rejected", static_cast<double>(step.rejected()));
  put_field(out, "dropped", static_cast<double>(step.dropped.value()));
  put_field(out, "bytes_in", static_cast<double>(step.bytes_in.value()));
  put_field(out, "bytes_out", static_cast<double>(step.bytes_out.value()));
  auto lag = step.lag();
  // Sources have no lag; a sink that has not yet learned its partitions has
  // an unknown one (null), not a lag of 0.
  if (step.kind == "sink" && !lag.empty()) {
    double records = 0, seconds = 0;
    for (const auto& p : lag) {
      records += static_cast<double>(std::max<int64_t>(0, p.high_watermark - p.next_offset));
      seconds = std::max(seconds, p.seconds);
    }
    put_field(out, "lag_records", records);
    put_field(out, "lag_seconds", seconds);
  } else {
    out += "\"lag_records\":null,\"lag_seconds\":null,";
  }
  put_key(out, "partitions");
  out += '[';
  for (const auto& p : lag) {
    out += '{';
    put_field(out, "partition", static_cast<double>(p.partition));
    put_field(out, "next_offset", static_cast<double>(p.next_offset));
    put_field(out, "high_watermark", static_cast<double>(p.high_watermark));
    put_field(out, "lag_records", static_cast<double>(std::max<int64_t>(0, p.high_watermark - p.next_offset)));
    put_field(out, "lag_seconds", p.seconds);
    close(out, '}');
    out += ',';
  }
  close(out, ']');
  out += '}';
}

// Sources first, then sinks, each in pipeline order (as they were added).
std::vector<const StepTelemetry*> in_pipeline_order(const Telemetry& telemetry) {
  std::vector<const StepTelemetry*> steps;
  for (const char* kind : {"source", "sink"})
    for (const auto& step : telemetry.steps())
      if (step->kind == kind) steps.push_back(step.get());
  return steps;
}

bool all_up(const Telemetry& telemetry) {
  return std::all_of(telemetry.steps().begin(), telemetry.steps().end(),
                     [](const auto& s) { return s->state() == StepState::up; });
}

}  // namespace

StatusBody health_json(const Telemetry& telemetry) {
  StatusBody body;
  body.ok = std::none_of(telemetry.steps().begin(), telemetry.steps().end(),
                         [](const auto& s) { return stalled(*s); });
  std::string& out = body.json;
  out += '{';
  put_field(out, "status", body.ok ? "ok" : "stalled");
  put_key(out, "components");
  out += '[';
  for (const StepTelemetry* step : in_pipeline_order(telemetry)) {
    out += '{';
    put_field(out, "name", step->name);
    put_field(out, "kind", step->kind);
    put_field(out, "state", state_name(step->state()));
    put_field(out, "seconds_since_beat", step->seconds_since_beat());
    put_field(out, "stalled", stalled(*step));
    close(out, '}');
    out += ',';
  }
  close(out, ']');
  out += "}\n";
  return body;
}

StatusBody ready_json(const Telemetry& telemetry) {
  StatusBody body;
  body.ok = all_up(telemetry);
  std::string& out = body.json;
  out += '{';
  put_field(out, "ready", body.ok);
  put_key(out, "components");
  out += '[';
  for (const StepTelemetry* step : in_pipeline_order(telemetry)) {
    StepState state = step->state();
    out += '{';
    put_field(out, "name", step->name);
    put_field(out, "kind", step->kind);
    put_field(out, "state", state_name(state));
    put_field(out, "ready", state == StepState::up);
    put_field(out, "reason", redact_process(step->reason()));
    close(out, '}');
    out += ',';
  }
  close(out, ']');
  out += "}\n";
  return body;
}

std::string status_json(const Telemetry& telemetry) {
  std::string out = "{";
  put_field(out, "pipeline", telemetry.pipeline());
  put_field(out, "version", SLUICE_VERSION);
  put_field(out, "started_at", unix_seconds(telemetry.started_at()));
  put_field(out, "now", unix_seconds(std::chrono::system_clock::now()));
  put_field(out, "ready", all_up(telemetry));
  put_key(out, "steps");
  out += '[';
  for (const StepTelemetry* step : in_pipeline_order(telemetry)) {
    put_step(out, *step);
    out += ',';
  }
  close(out, ']');
  out += "}\n";
  return out;
}

}  // namespace sluice
