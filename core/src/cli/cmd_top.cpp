// `sluice top [--addr HOST:PORT] [--once]`: the steps of a running pipeline
// with their rates, totals, rejects, lag and state, from /api/status sampled
// each second (a rate is the change of records_out between two samples over
// the change of their "now"). On a terminal the table is redrawn in place;
// otherwise (or with --once) each refresh prints one line per step, no ANSI.
#include <chrono>
#include <cstdio>
#include <map>
#include <thread>

#include <unistd.h>

#include <simdjson.h>

#include "cli/commands.h"
#include "cli/http_client.h"
#include "observe/status_json.h"
#include "run/pipeline_runner.h"

namespace sluice::cli {

namespace {

struct StepRow {
  std::string name, kind, state, reason;
  uint64_t total = 0, rejected = 0;
  std::optional<int64_t> lag_records;
  std::optional<double> lag_seconds;
};

struct Sample {
  std::string pipeline;
  bool ready = false;
  double now = 0;
  std::vector<StepRow> steps;
};

std::optional<Sample> parse_status(const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::array steps;
  Sample s;
  std::string_view pipeline;
  if (parser.parse(body).get(doc) || doc["steps"].get(steps) || doc["now"].get(s.now)) return std::nullopt;
  if (!doc["pipeline"].get(pipeline)) s.pipeline = pipeline;
  if (doc["ready"].get(s.ready)) s.ready = false;
  for (simdjson::dom::element step : steps) {
    StepRow row;
    std::string_view text;
    if (!step["name"].get(text)) row.name = text;
    if (!step["kind"].get(text)) row.kind = text;
    if (!step["state"].get(text)) row.state = text;
    if (!step["reason"].get(text)) row.reason = text;
    if (step["records_out"].get(row.total)) row.total = 0;
    if (step["rejected"].get(row.rejected)) row.rejected = 0;
    int64_t lag = 0;
    double seconds = 0;
    if (!step["lag_records"].get(lag)) row.lag_records = lag;
    if (!step["lag_seconds"].get(seconds)) row.lag_seconds = seconds;
    s.steps.push_back(std::move(row));
  }
  return s;
}

std::optional<Sample> fetch(const HttpAddr& addr) {
  auto reply = http_get(addr, "/api/status", 5);
  if (!reply) return std::nullopt;
  if (reply->status != 200) {
    std::fprintf(stderr, "error: %s answered /api/status with HTTP %d: %s\n", addr.text.c_str(), reply->status,
                 error_text(reply->body).c_str());
    return std::nullopt;
  }
  auto sample = parse_status(reply->body);
  if (!sample) std::fprintf(stderr, "error: %s answered /api/status with what is not its JSON\n", addr.text.c_str());
  return sample;
}

// Records per second since the previous sample; none for the first.
std::optional<double> rate(const StepRow& row, const Sample& now, const Sample* before) {
  if (!before || now.now <= before->now) return std::nullopt;
  for (const auto& old : before->steps)
    if (old.name == row.name && row.total >= old.total)
      return static_cast<double>(row.total - old.total) / (now.now - before->now);
  return std::nullopt;
}

std::string or_dash(const std::optional<double>& v, const char* format) {
  if (!v) return "-";
  char text[32];
  std::snprintf(text, sizeof text, format, *v);
  return text;
}

// A reason as a JSON string: no byte of it reaches a terminal unescaped.
std::string quoted(const std::string& text) {
  std::string out;
  append_json_text(out, text);
  return out;
}

// One line per step, for a pipe or a log: key=value, the reason quoted last.
void print_lines(const Sample& now, const Sample* before) {
  for (const auto& row : now.steps) {
    std::printf("step=%s kind=%s state=%s rate=%s/s total=%llu rejected=%llu lag_records=%s lag_s=%s%s%s\n",
                row.name.c_str(), row.kind.c_str(), row.state.c_str(), or_dash(rate(row, now, before), "%.1f").c_str(),
                static_cast<unsigned long long>(row.total), static_cast<unsigned long long>(row.rejected),
                row.lag_records ? std::to_string(*row.lag_records).c_str() : "-",
                or_dash(row.lag_seconds, "%.1f").c_str(), row.reason.empty() ? "" : " reason=",
                row.reason.empty() ? "" : quoted(row.reason).c_str());
  }
  std::fflush(stdout);
}

// The table, redrawn from the top left of a cleared screen.
void print_table(const HttpAddr& addr, const Sample& now, const Sample* before) {
  std::string out = "\x1b[H\x1b[2J";
  char line[512];
  std::snprintf(line, sizeof line, "\x1b[1msluice top\x1b[0m  pipeline %s at %s  %s\n\n", now.pipeline.c_str(),
                addr.text.c_str(), now.ready ? "\x1b[32mready\x1b[0m" : "\x1b[33mnot ready\x1b[0m");
  out += line;
  std::snprintf(line, sizeof line, "\x1b[7m%-20s %-6s %-9s %12s %14s %10s %12s %8s\x1b[0m\n", "STEP", "KIND", "STATE",
                "RATE/S", "TOTAL", "REJECTED", "LAG RECORDS", "LAG S");
  out += line;
  for (const auto& row : now.steps) {
    const char* colour = row.state == "up" ? "\x1b[32m" : row.state == "retrying" ? "\x1b[33m" : "\x1b[31m";
    std::snprintf(line, sizeof line, "%-20.20s %-6s %s%-9s\x1b[0m %12s %14llu %10llu %12s %8s\n", row.name.c_str(),
                  row.kind.c_str(), colour, row.state.c_str(), or_dash(rate(row, now, before), "%.1f").c_str(),
                  static_cast<unsigned long long>(row.total), static_cast<unsigned long long>(row.rejected),
                  row.lag_records ? std::to_string(*row.lag_records).c_str() : "-",
                  or_dash(row.lag_seconds, "%.1f").c_str());
    out += line;
    if (!row.reason.empty()) out += "    " + quoted(row.reason.substr(0, 200)) + "\n";
  }
  out += "\n(refreshing each second; Ctrl-C ends)\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
}

int top(const HttpAddr& addr, bool once) {
  const bool tty = isatty(STDOUT_FILENO) && !once;
  std::optional<Sample> before = fetch(addr);
  if (!before) return kExitRuntime;
  if (!once) tty ? print_table(addr, *before, nullptr) : print_lines(*before, nullptr);
  for (;;) {
    std::this_thread::sleep_for(std::chrono::seconds(1));  // the refresh interval, and a rate's window
    std::optional<Sample> now = fetch(addr);
    if (!now) return kExitRuntime;
    tty ? print_table(addr, *now, &*before) : print_lines(*now, &*before);
    if (once) return kExitOk;
    before = std::move(now);
  }
}

}  // namespace

void add_top(CLI::App& app, const GlobalOptions&, int& exit_code) {
  auto* cmd = app.add_subcommand("top", "show the steps of a running pipeline: rates, totals, rejects, lag, state");
  struct Args {
    std::string addr = kDefaultHttpAddr;
    bool once = false;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("--addr", args->addr, "the pipeline's HTTP server ([http] listen)")->capture_default_str();
  cmd->add_flag("--once", args->once, "take two samples a second apart, print one line per step, and end");
  cmd->callback([&exit_code, args] {
    auto addr = parse_http_addr(args->addr);
    exit_code = addr ? top(*addr, args->once) : kExitConfig;
  });
}

}  // namespace sluice::cli
