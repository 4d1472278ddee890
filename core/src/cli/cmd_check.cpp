// `sluice check FILE`: validates a pipeline without running it; with
// --connect, also contacts everything it names.
#include <cctype>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "sluice/error.h"

#include "cli/commands.h"
#include "cli/connect_check.h"
#include "cli/load.h"
#include "run/pipeline_runner.h"

namespace sluice::cli {

namespace {

// A --connect check failed (the file itself is valid; exit 2 stays for
// configuration errors found without contacting anything).
constexpr int kExitCheckFailed = 1;

void print_options(const std::vector<OptionSpec>& specs, const OptionValues& values, const Secrets& secrets) {
  for (const auto& spec : specs) {
    auto it = values.find(spec.name);
    if (it == values.end()) continue;
    std::string text = spec.secret ? "\"***\"" : redact(format_option_value(it->second), secrets);
    std::printf("%s = %s\n", spec.name.c_str(), text.c_str());
  }
}

void print_config(const PipelineConfig& config) {
  std::printf("name = \"%s\"\n\n[kafka]\n", config.name.c_str());
  print_options(kafka_options().specs(), config.kafka_values, secrets_of(config));
  std::printf("\n[http]\n");
  print_options(http_options().specs(), config.http_values, secrets_of(config));
  for (const auto* steps : {&config.sources, &config.sinks})
    for (const auto& step : *steps) {
      bool source = step.kind == PluginKind::source;
      std::printf("\n[[%s]]  # line %d\n", source ? "sources" : "sinks", step.pos.line);
      print_options(source ? source_common_options().specs() : sink_common_options().specs(),
                    step.values, secrets_of(config));
      print_options(step.plugin->options, step.values, secrets_of(config));
    }
}

PluginContext context_of(const PipelineConfig& config, const StepConfig& step) {
  return {config.name, step.name, step.topic,
          step.kind == PluginKind::sink ? consumer_group(config, step) : std::string(), pipeline_dir(config)};
}

std::string key_of(const StepConfig& step) {
  return std::string(step.kind == PluginKind::sink ? "sinks." : "sources.") + step.name;
}

// Lets each plugin that can verify its settings against the outside world do
// so (a PostgreSQL sink: its table and columns). A mistake found there is a
// configuration error; an unreachable system is only a warning, because
// check also runs where production systems cannot be reached.
bool probe_plugins(const PipelineConfig& config) {
  Diagnostics found;
  for (const auto* steps : {&config.sources, &config.sinks})
    for (const auto& step : *steps) {
      if (!step.plugin->probe) continue;
      try {
        step.plugin->probe(step.values, context_of(config, step));
      } catch (const Error& e) {
        std::string what = redact_process(e.what());
        if (e.error_class() == ErrorClass::config) found.error(step.pos, key_of(step), what);
        else found.warning(step.pos, key_of(step), "not verified: " + what);
      }
    }
  if (!found.items().empty()) std::fprintf(stderr, "%s", redact_process(found.format()).c_str());
  return !found.has_errors();
}

// One step's lines under --connect: its connect probe, else its plain probe
// (one line), else nothing to contact.
void connect_step(const PipelineConfig& config, const StepConfig& step, KafkaConnectCheck& kafka,
                  std::chrono::milliseconds timeout, std::vector<CheckLine>& lines) {
  const std::string key = key_of(step);
  try {
    ConnectProbe probe;
    probe.timeout = timeout;
    // Every sink's topic is read (which verifies this role may read it);
    // what the sink gets is what its transforms make of the records.
    if (step.kind == PluginKind::sink)
      probe.recent_records = kafka.recent_records(step.topic, probe.records_note, lines, probe.record_origins);
    if (step.kind == PluginKind::sink && !step.transforms.scripts.empty()) {
      probe.recent_records.clear();
      probe.record_origins.clear();
      probe.records_note = "records pass the sink's transforms first";
    }
    if (step.plugin->probe_connect) {
      for (auto& line : step.plugin->probe_connect(step.values, context_of(config, step), probe))
        lines.push_back({line.ok, key, std::move(line.text)});
    } else if (step.plugin->probe) {
      step.plugin->probe(step.values, context_of(config, step));
      lines.push_back({true, key, step.plugin->name + ": settings verified"});
    }
  } catch (const std::exception& e) {
    lines.push_back({false, key, e.what()});
  }
}

// Serialises printing between the check and its watchdog; what has been
// printed, for the watchdog's summary.
std::mutex print_mutex;
size_t printed_checks = 0, printed_failures = 0;

// Prints the lines from `from` on, as they are decided: a slow system shows
// what has been verified so far.
size_t print_lines(const std::vector<CheckLine>& lines, size_t from) {
  std::lock_guard lock(print_mutex);
  for (size_t i = from; i < lines.size(); ++i) {
    // Every line is masked: libraries quote what they were given. One check,
    // one line: libpq's messages run over several.
    std::string text = redact_process(lines[i].subject + ": " + lines[i].text);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
    for (size_t at; (at = text.find_first_of("\r\n")) != std::string::npos;) {
      const size_t end = text.find_first_not_of(" \t\r\n", at);
      text.replace(at, (end == std::string::npos ? text.size() : end) - at, " ");
    }
    // A server that sends garbage is quoted by libpq byte for byte: no
    // control character reaches the terminal.
    for (char& c : text)
      if (std::iscntrl(static_cast<unsigned char>(c))) c = c == '\t' ? ' ' : '?';
    std::printf("%-4s %s\n", lines[i].ok ? "ok" : "FAIL", text.c_str());
    ++printed_checks;
    printed_failures += lines[i].ok ? 0 : 1;
  }
  std::fflush(stdout);
  return lines.size();
}

// A server may accept the connection, complete the handshake and then never
// answer (a pooler whose backend hangs): libpq's blocking queries have no
// timeout of their own, and statement_timeout needs a server that runs the
// query. So each step (the Kafka checks, each source or sink) has a bound;
// past it, the step is a FAIL line and the check ends with exit 1.
class StepWatchdog {
 public:
  StepWatchdog(const std::string& path, std::string subject, std::chrono::milliseconds bound)
      : thread_([this, path, subject = std::move(subject), bound] {
          std::unique_lock lock(mutex_);
          if (done_cv_.wait_for(lock, bound, [this] { return done_; })) return;
          std::lock_guard printing(print_mutex);  // held until the process ends
          std::printf("FAIL %s: no answer within %lld ms (a server accepted the connection but did not "
                      "answer); stopped\n",
                      redact_process(subject).c_str(), static_cast<long long>(bound.count()));
          std::printf("%s: %zu of %zu checks failed (the remaining checks were not run)\n", path.c_str(),
                      printed_failures + 1, printed_checks + 1);
          std::fflush(stdout);
          std::_Exit(1);
        }) {}
  ~StepWatchdog() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    done_cv_.notify_all();
    thread_.join();
  }
  StepWatchdog(const StepWatchdog&) = delete;
  StepWatchdog& operator=(const StepWatchdog&) = delete;

 private:
  std::mutex mutex_;
  std::condition_variable done_cv_;
  bool done_ = false;
  std::thread thread_;
};

// What one step may take: its few requests (a read of the topic, a
// connection of at least 2 s, catalog queries) each bounded by the timeout.
std::chrono::milliseconds step_bound(std::chrono::milliseconds timeout) {
  return 4 * timeout + std::chrono::seconds(2);
}

int check_connect(const std::string& path, const PipelineConfig& config, std::chrono::milliseconds timeout) {
  KafkaConnectCheck kafka(config, timeout);
  std::vector<CheckLine> lines;
  {
    StepWatchdog watchdog(path, "kafka", step_bound(timeout));
    lines = kafka.run();
  }
  size_t printed = print_lines(lines, 0);
  for (const auto* steps : {&config.sources, &config.sinks})
    for (const auto& step : *steps) {
      {
        StepWatchdog watchdog(path, key_of(step), step_bound(timeout));
        connect_step(config, step, kafka, timeout, lines);
      }
      printed = print_lines(lines, printed);
    }
  size_t failed = 0;
  for (const auto& line : lines) failed += line.ok ? 0 : 1;
  if (failed) std::printf("%s: %zu of %zu checks failed\n", path.c_str(), failed, lines.size());
  else std::printf("%s: ok: all %zu checks passed\n", path.c_str(), lines.size());
  return failed ? kExitCheckFailed : kExitOk;
}

}  // namespace

void add_check(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  auto* cmd = app.add_subcommand("check", "validate a pipeline file without running it "
                                          "(exit 0: valid, 2: configuration errors; "
                                          "--connect: 1 when a check failed)");
  auto path = std::make_shared<std::string>();
  auto print = std::make_shared<bool>(false);
  auto offline = std::make_shared<bool>(false);
  auto connect = std::make_shared<bool>(false);
  auto timeout = std::make_shared<Milliseconds>(std::chrono::seconds(5));
  cmd->add_option("pipeline", *path, "the pipeline file")->required();
  cmd->add_flag("--print", *print, "print the resolved configuration (secrets masked)");
  auto* offline_flag = cmd->add_flag("--offline", *offline,
                "do not contact the systems the pipeline writes to (by default, sinks such as postgres "
                "check that their table and columns exist)");
  cmd->add_flag("--connect", *connect,
                "contact everything: the Kafka cluster (metadata, topics) and each sink (e.g. postgres: "
                "connection, table, columns, privileges); one ok/FAIL line per check, nothing written")
      ->excludes(offline_flag);
  cmd->add_option_function<int64_t>(
         "--timeout-ms", [timeout](int64_t ms) { *timeout = Milliseconds(ms); },
         "--connect: bound of each connection and request, in milliseconds (default 5000)")
      ->check(CLI::Range(int64_t{100}, int64_t{600000}));
  cmd->callback([&global, &exit_code, path, print, offline, connect, timeout] {
    PluginRegistry registry;
    bool plugins_ok = load_registry(registry, global);
    auto config = load_checked(*path, registry);
    if (!config || !plugins_ok) {
      exit_code = kExitConfig;
      return;
    }
    if (*connect) {
      if (*print) print_config(*config);
      exit_code = check_connect(*path, *config, *timeout);
      return;
    }
    if (!*offline && !probe_plugins(*config)) {
      exit_code = kExitConfig;
      return;
    }
    if (*print) print_config(*config);
    std::printf("%s: ok: pipeline `%s`, %zu source(s), %zu sink(s), kafka %s\n", path->c_str(),
                config->name.c_str(), config->sources.size(), config->sinks.size(),
                config->kafka.embedded() ? "embedded" : redact_process(config->kafka.bootstrap_servers).c_str());
    exit_code = kExitOk;
  });
}

}  // namespace sluice::cli
