// `--log-format json`: each log line one JSON object,
// {"time","level","pipeline","step","message"}, every string escaped (a
// message may hold quotes, newlines, any bytes: those that are not UTF-8
// become U+FFFD). The step is the one a message names first by sluice's
// convention "name: …" when name is a step of the running pipeline.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace spdlog::sinks {
class sink;
}

namespace sluice {

// A sink writing one JSON object per message to `out` (stderr by default).
std::shared_ptr<spdlog::sinks::sink> json_log_sink(std::FILE* out = stderr);

// The running pipeline and its step names, for the "pipeline" and "step" fields.
void set_log_context(std::string pipeline, std::vector<std::string> steps);

// The JSON line (with its newline) for one message; unix_ms: its time.
std::string json_log_line(int64_t unix_ms, std::string_view level, std::string_view message);

}  // namespace sluice
