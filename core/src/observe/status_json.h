// The JSON bodies of /health, /ready and /api/status, built from a
// pipeline's Telemetry (CONTRACT15.md has their shapes). Every string is
// escaped and made valid UTF-8: step names and reasons may hold any bytes.
#pragma once

#include <string>
#include <string_view>

namespace sluice {

class Telemetry;

// Appends `text` as a JSON string literal that is valid UTF-8 whatever the
// bytes: control characters escaped, each byte that is not part of
// well-formed UTF-8 replaced by U+FFFD.
void append_json_text(std::string& out, std::string_view text);

// A heartbeat older than this while a step is up means it is stuck.
inline constexpr double kStalledAfterSeconds = 60;

struct StatusBody {
  bool ok = false;  // 200 when true, else 503
  std::string json;
};

StatusBody health_json(const Telemetry& telemetry);  // ok: no step stalled
StatusBody ready_json(const Telemetry& telemetry);   // ok: every step up
std::string status_json(const Telemetry& telemetry);

}  // namespace sluice
