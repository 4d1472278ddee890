// `sluice produce --topic T`: JSON lines from stdin into a Kafka topic. It is
// a one-source pipeline built in code: the `stdin` source, run by the same
// source runner and idempotent producer as `sluice run`.
#include <cstdio>

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/kafka_client.h"
#include "cli/load.h"
#include "cli/signals.h"
#include "kafka/producer.h"
#include "run/pipeline_runner.h"
#include "run/source_runner.h"
#include "sluice/error.h"
#include "sluice/json_text.h"

namespace sluice::cli {

namespace {

struct ProduceArgs {
  KafkaClientArgs kafka;
  std::string topic, key_field, max_line_bytes;
  bool strict = false;
};

// A TOML basic string holding `text` as it is: a JSON string literal is one,
// once DEL is escaped too, and `$` is doubled so no ${VAR} is expanded.
std::string toml_string(const std::string& text) {
  std::string json;
  append_json_string(json, text);
  std::string out;
  for (char c : json) {
    if (c == '$') out += "$$";
    else if (c == '\x7f') out += "\\u007f";
    else out += c;
  }
  return out;
}

// The pipeline `produce` runs: one stdin source, checked by the same loader
// as a pipeline file (so the option names and limits are the source's own).
std::string pipeline_text(const ProduceArgs& args) {
  std::string text = "name = \"produce\"\n[[sources]]\nname = \"stdin\"\ntype = \"stdin\"\n";
  text += "topic = " + toml_string(args.topic) + "\n";
  if (!args.key_field.empty()) text += "key = " + toml_string(args.key_field) + "\n";
  if (!args.max_line_bytes.empty()) text += "max_line_bytes = " + toml_string(args.max_line_bytes) + "\n";
  text += std::string("strict = ") + (args.strict ? "true" : "false") + "\n";
  return text;
}

// Waits for every record to be acknowledged or to fail for good (librdkafka's
// message.timeout.ms bounds that); after a stop request, for at most `grace`.
void await_acknowledgements(Producer& producer, const StopSignal& stop, std::chrono::milliseconds grace) {
  std::optional<std::chrono::steady_clock::time_point> give_up;
  while (!producer.flush(std::chrono::milliseconds(200))) {
    if (!stop.requested()) continue;
    if (!give_up) give_up = std::chrono::steady_clock::now() + grace;
    if (std::chrono::steady_clock::now() >= *give_up) return;
  }
}

int produce(const ProduceArgs& args, const GlobalOptions& global) {
  // Checked first: a closed fd 0 would be reused by the next file the
  // process opens (a librdkafka pipe), and read from as if it were stdin.
  if (::fcntl(STDIN_FILENO, F_GETFD) < 0) {
    std::fprintf(stderr, "error: stdin is not open: there is nothing to read records from\n");
    return kExitConfig;
  }
  PluginRegistry registry;
  if (!load_registry(registry, global)) return kExitConfig;
  auto client = resolve_kafka_client(args.kafka, registry);
  if (!client) return kExitConfig;
  Diagnostics diagnostics;
  PipelineConfig config = load_pipeline_text(pipeline_text(args), "sluice produce", registry, diagnostics);
  std::fputs(redact_process(diagnostics.format()).c_str(), stderr);
  if (diagnostics.has_errors()) return kExitConfig;
  const StepConfig& step = config.sources.front();

  StopSignal stop;
  SignalWatcher signals(stop);
  int exit_code = kExitOk;
  std::unique_ptr<Producer> producer;
  std::unique_ptr<SourceRunner> runner;
  Telemetry telemetry(config.name);  // kept as in a run; nothing scrapes it here
  try {
    producer = std::make_unique<Producer>(client->settings, client->bootstrap);
    reach_topic(producer->handle(), *client, args.topic);
    PluginContext ctx{config.name, step.name, step.topic, {}, ""};
    runner = std::make_unique<SourceRunner>(step, step.plugin->make_source(step.values, ctx), *producer, stop,
                                            telemetry.add_step(step, "source"));
  } catch (const std::exception& e) {
    const auto* error = dynamic_cast<const Error*>(&e);
    std::fprintf(stderr, "error: %s\n", redact_process(e.what()).c_str());
    return error && error->error_class() == ErrorClass::config ? kExitConfig : kExitRuntime;
  }
  if (::isatty(STDIN_FILENO))
    std::fprintf(stderr, "reading JSON lines from the terminal, one record per line; end with Ctrl-D\n");
  try {
    runner->run();
  } catch (const Error& e) {
    // A stop while the producer queue was full loses nothing: what was
    // queued is still delivered below.
    if (!(stop.requested() && (e.retriable() || e.stopped()))) {
      spdlog::error("{}", e.what());
      exit_code = e.error_class() == ErrorClass::config ? kExitConfig : kExitRuntime;
    }
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    exit_code = kExitRuntime;
  }
  await_acknowledgements(*producer, stop, client->timeout);
  const uint64_t emitted = runner->emitted(), delivered = producer->delivered(), failed = producer->failed();
  const uint64_t unacknowledged = emitted - std::min(emitted, delivered + failed);
  std::fprintf(stderr, "produce: %llu record(s) to `%s`: %llu delivered, %llu failed%s\n",
               static_cast<unsigned long long>(emitted), args.topic.c_str(),
               static_cast<unsigned long long>(delivered), static_cast<unsigned long long>(failed),
               unacknowledged ? (", " + std::to_string(unacknowledged) + " unacknowledged").c_str() : "");
  if ((failed || unacknowledged) && exit_code == kExitOk) exit_code = kExitRuntime;
  return exit_code;
}

}  // namespace

void add_produce(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "produce", "produce JSON lines from stdin to a Kafka topic, one record per line (exit 0: every good line "
                 "delivered, 1: a delivery failed or the cluster cannot be reached, 2: configuration error, or "
                 "a bad line under --strict)");
  auto args = std::make_shared<ProduceArgs>();
  cmd->add_option("--topic", args->topic, "the topic to produce to")->required()->check(topic_name_problem);
  cmd->add_option("--key-field", args->key_field, "top-level field whose value is the record's key (default: none)");
  cmd->add_flag("--strict", args->strict, "stop at the first line that is not valid JSON (exit 2) instead of skipping it");
  cmd->add_option("--max-line-bytes", args->max_line_bytes, "longest line read, e.g. \"1MB\" (the default)");
  add_kafka_client_options(cmd, args->kafka);
  cmd->callback([&global, &exit_code, args] { exit_code = produce(*args, global); });
}

}  // namespace sluice::cli
