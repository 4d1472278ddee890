// Source `stdin`: JSON lines from standard input, one record per line, until
// end of input. A line that is not JSON (or not UTF-8, or longer than the
// cap) is reported with its number and skipped, or, with `strict`, stops the
// pipeline as an input error.
#include <atomic>
#include <string>

#include <spdlog/spdlog.h>
#include <unistd.h>

#include "json_line_check.h"
#include "line_reader.h"
#include "sluice/error.h"
#include "sluice/plugin_info.h"

namespace {

// Binary input is a bad line every few hundred bytes: after this many, the
// log would only repeat itself, so the rest are counted in the summary.
constexpr uint64_t kReportedBadLines = 100;

struct StdinConfig {
  bool strict = false;
  int64_t max_line_bytes = 0;  // default: the option table
};

std::string_view trim(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

// Standard input is one stream: two sources reading it would each get an
// arbitrary share of the lines, so a second one is refused.
std::atomic<bool> stdin_claimed{false};

class StdinSource : public sluice::Source {
 public:
  StdinSource(const StdinConfig& config, const sluice::PluginContext& ctx) : config_(config), name_(ctx.name) {
    if (stdin_claimed.exchange(true))
      throw sluice::Error(sluice::errc::config, "source `" + name_ + "`: another `stdin` source already reads "
                                                "standard input; a pipeline can have only one");
  }
  ~StdinSource() override { stdin_claimed = false; }
  StdinSource(const StdinSource&) = delete;
  StdinSource& operator=(const StdinSource&) = delete;

  bool finite() const override { return true; }

  void run(sluice::Emitter& emitter) override {
    stdin_source::LineReader reader(STDIN_FILENO, static_cast<size_t>(config_.max_line_bytes));
    stdin_source::JsonLineChecker checker;
    const auto stopping = [&emitter] { return emitter.stopping(); };
    for (;;) {
      std::string_view line;
      auto status = reader.next(line, stopping);
      if (status == stdin_source::LineReader::Status::stopped) break;
      if (status == stdin_source::LineReader::Status::end) {
        summary("end of input", reader.line_number());
        return;
      }
      if (status == stdin_source::LineReader::Status::too_long) {
        bad(reader.line_number(), "longer than max_line_bytes (" + std::to_string(config_.max_line_bytes) +
                                      " bytes), skipped unread", line);
        continue;
      }
      // A byte order mark before the first line (editors on Windows write
      // one) is not part of the record: RFC 8259 lets a parser ignore it.
      if (reader.line_number() == 1 && line.starts_with("\xEF\xBB\xBF")) line.remove_prefix(3);
      const std::string_view written = line;
      line = trim(written);
      // Columns count from the start of the line as written, spaces included.
      const size_t leading = static_cast<size_t>(line.data() - written.data());
      if (line.empty()) {
        ++empty_;
        continue;
      }
      stdin_source::LineProblem problem = checker.check(line);
      if (!problem.reason.empty()) {
        std::string where = problem.column ? "column " + std::to_string(leading + problem.column) + ": " : "";
        bad(reader.line_number(), "not valid JSON (" + where + problem.reason + ")", line);
        continue;
      }
      emitter.emit(line);
      ++emitted_;
    }
    summary("stopped", reader.line_number());
  }

 private:
  // Reports a line it skips; under `strict` the first one ends the run as an input error.
  void bad(uint64_t number, const std::string& why, std::string_view line) {
    ++bad_;
    std::string text = "input line " + std::to_string(number) + ": " + why + ": `" +
                       stdin_source::escaped_excerpt(line) + "` (" + std::to_string(line.size()) + " bytes)";
    if (config_.strict)
      throw sluice::Error(sluice::errc::config, text + "; strict: stopping at the first bad line");
    if (bad_ <= kReportedBadLines) spdlog::warn("{}: {}, skipped", name_, text);
    if (bad_ == kReportedBadLines)
      spdlog::warn("{}: {} bad lines so far; further ones are skipped and counted without a report each", name_,
                   bad_);
  }

  void summary(const char* why, uint64_t lines) const {
    spdlog::info("{}: {}: {} line(s) read: {} emitted, {} bad (skipped), {} empty", name_, why, lines, emitted_,
                 bad_, empty_);
  }

  StdinConfig config_;
  std::string name_;
  uint64_t emitted_ = 0, bad_ = 0, empty_ = 0;
};

}  // namespace

sluice::PluginInfo sluice_builtin_stdin() {
  static const auto options = sluice::Options<StdinConfig>()
    .boolean("strict", &StdinConfig::strict,
             "stop the pipeline (exit 2) at the first bad line instead of reporting and skipping it")
      .def(false)
    .size("max_line_bytes", &StdinConfig::max_line_bytes,
          "longest line read (e.g. \"1MB\"); a longer one is reported and skipped, never held whole")
      .def("1MB").range(16, 1 << 30);
  return sluice::source_plugin<StdinSource>(
      "stdin", "JSON lines from standard input, one record per line, until end of input", options);
}
