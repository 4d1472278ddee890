#include "run/pipeline_runner.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "kafka/embedded_broker.h"
#include "kafka/producer.h"
#include "kafka/watermarks.h"
#include "observe/http_server.h"
#include "observe/json_log.h"
#include "observe/page_routes.h"
#include "observe/tap_routes.h"
#include "observe/telemetry.h"
#include "run/progress.h"
#include "run/sink_runner.h"
#include "run/source_runner.h"
#include "run/stored_downstream.h"
#include "sluice/error.h"

namespace sluice {

namespace {

// Collects the first failure of any thread and stops the rest.
class Failures {
 public:
  Failures(StopSignal& stop, RunFailure* first) : stop_(stop), first_(first) {}
  void record(const std::string& who, const std::exception& e) {
    std::lock_guard lock(mutex_);
    spdlog::error("{}: {}", who, e.what());
    auto* err = dynamic_cast<const Error*>(&e);
    if (err && err->error_class() == ErrorClass::config) config_ = true;
    if (first_ && !any_) {
      first_->message = who + ": " + e.what();
      first_->error_class = err ? err->error_class() : ErrorClass::fatal;
      first_->at_start = !started_;
    }
    any_ = true;
    stop_.request();
  }
  void started() { started_ = true; }
  bool any() const { return any_; }
  bool config() const { return config_; }

 private:
  StopSignal& stop_;
  RunFailure* first_;
  std::mutex mutex_;
  std::atomic<bool> any_{false}, config_{false}, started_{false};
};

// Calls the host's `ending` hook however the run returns.
class EndingHook {
 public:
  EndingHook(const RunOptions& options, Telemetry& telemetry) : options_(options), telemetry_(telemetry) {}
  ~EndingHook() {
    if (options_.ending) options_.ending(telemetry_);
  }
  EndingHook(const EndingHook&) = delete;
  EndingHook& operator=(const EndingHook&) = delete;

 private:
  const RunOptions& options_;
  Telemetry& telemetry_;
};

// A thread that reports when its body is over.
struct Worker {
  std::thread thread;
  std::atomic<bool> done{false};
};

// Nothing may escape a thread's function (that would be std::terminate): the
// bodies catch what they know; anything else still stops the run as a failure.
void start(Worker& w, Failures& failures, std::string who, std::function<void()> body) {
  w.thread = std::thread([&w, &failures, who = std::move(who), body = std::move(body)] {
    try {
      body();
    } catch (...) {
      failures.record(who, Error(errc::fatal, "stopped by an exception of unknown type"));
    }
    w.done = true;
  });
}

// Tells this process's embedded broker from every earlier one: its log is
// new, so offsets a sink stored for an earlier run's log must not be read
// as positions in this one.
std::string new_run_id() {
  std::random_device random;
  char id[17];
  std::snprintf(id, sizeof id, "%08x%08x", random(), random());
  return id;
}

// A sink on the embedded broker with every other part of the pipeline in
// this process is its topic's only reader, unless another sink here shares
// its consumer group there: then the group must divide the partitions.
bool only_reader(const PipelineConfig& config, const RunOptions& options, const StepConfig& sink) {
  if (!config.kafka.embedded() || options.only != RunOptions::Only::all) return false;
  const std::string group = consumer_group(config, sink);
  return std::count_if(config.sinks.begin(), config.sinks.end(), [&](const StepConfig& other) {
           return other.topic == sink.topic && consumer_group(config, other) == group;
         }) == 1;
}

// The producer's queue depth on /metrics, for as long as the producer lives.
class ProducerQueueGauge {
 public:
  ProducerQueueGauge(metrics::Registry& registry, const Producer& producer)
      : registry_(registry),
        id_(registry.add_collector("sluice_producer_queue_records",
                                   "Records queued in the pipeline's Kafka producer, not yet acknowledged",
                                   metrics::Type::gauge, [&producer](std::vector<metrics::Sample>& out) {
                                     out.push_back({{}, static_cast<double>(rd_kafka_outq_len(producer.handle()))});
                                   })) {}
  ProducerQueueGauge(const ProducerQueueGauge&) = delete;
  ProducerQueueGauge& operator=(const ProducerQueueGauge&) = delete;
  ~ProducerQueueGauge() { registry_.remove_collector(id_); }

 private:
  metrics::Registry& registry_;
  uint64_t id_;
};

bool all_done(const std::vector<std::unique_ptr<Worker>>& workers) {
  for (const auto& w : workers)
    if (!w->done) return false;
  return true;
}

}  // namespace

int run_pipeline(const PipelineConfig& config, const RunOptions& options, StopSignal& stop) {
  const bool run_sources = options.only != RunOptions::Only::sinks;
  const bool run_sinks = options.only != RunOptions::Only::sources;
  Failures failures(stop, options.failure);
  Telemetry telemetry(config.name);  // before the runners that update it, after the server that reads it
  EndingHook ending(options, telemetry);  // declared before the runners: it runs once they are gone
  {
    std::vector<std::string> step_names;  // log lines naming a step ("pg: …") carry it in --log-format json
    for (const auto* steps : {&config.sources, &config.sinks})
      for (const auto& s : *steps) step_names.push_back(s.name);
    set_log_context(config.name, std::move(step_names));
  }

  std::unique_ptr<EmbeddedBroker> broker;
  std::unique_ptr<Producer> producer;
  std::optional<ProducerQueueGauge> queue_gauge;  // after the producer it reads
  std::vector<std::unique_ptr<SourceRunner>> sources;
  std::vector<std::unique_ptr<SinkRunner>> sinks;
  std::vector<StepTelemetry*> source_states, sink_states;  // the runners' telemetry, in the same order
  // After the runners, so it is destroyed (stopped) before them: it reads their telemetry.
  std::unique_ptr<HttpServer> http;
  StoredDownstream downstream;  // the embedded broker's records are durable once these sinks stored them
  std::string bootstrap = config.kafka.bootstrap_servers;
  std::string group_suffix;  // the embedded broker's identity in the offsets' key
  try {
    // Bound first: a port in use is a start-up error before anything connects.
    if (config.http.on()) http = std::make_unique<HttpServer>(config.http, telemetry);
    if (config.kafka.embedded()) {
      if (options.only != RunOptions::Only::all)
        spdlog::warn("the embedded broker lives in this process only; to split sources and sinks "
                     "across processes, run `sluice broker` and point bootstrap_servers at it");
      broker = std::make_unique<EmbeddedBroker>();
      bootstrap = broker->bootstrap_servers();
      for (const auto& s : config.sources)
        broker->create_topic(s.topic, static_cast<int>(std::get<int64_t>(s.values.at("partitions"))));
      for (const auto& s : config.sinks) broker->create_topic(s.topic, 1);
      for (const auto& s : config.sources)
        if (!s.transforms.dead_letter_topic.empty()) broker->create_topic(s.transforms.dead_letter_topic, 1);
      group_suffix = "@embedded-" + new_run_id();
      spdlog::info("embedded broker listening on {}; its log is new, so the offsets sinks store are keyed by "
                   "this run (consumer group suffix `{}`): those earlier runs stored, for their own logs, are "
                   "not read", bootstrap, group_suffix);
    }
    for (const auto& step : run_sinks ? config.sinks : std::vector<StepConfig>{}) {
      std::string group = consumer_group(config, step) + group_suffix;
      PluginContext ctx{config.name, step.name, step.topic, group, pipeline_dir(config), &telemetry.registry()};
      SinkLog log{bootstrap, group, broker != nullptr, only_reader(config, options, step)};
      try {
        StepTelemetry& state = telemetry.add_step(step, "sink");
        sinks.push_back(std::make_unique<SinkRunner>(config, step, step.plugin->make_sink(step.values, ctx), log,
                                                     stop, SinkLimits{options.exit_after}, state));
        sink_states.push_back(&state);
        downstream.add(*sinks.back(), group);
      } catch (const Error& e) {
        // Assigned directly, the sink reads its stored offsets here, where a
        // stop may cut its retries short: nothing was read, nothing is lost.
        if (stop.requested() && (e.retriable() || e.stopped())) {
          spdlog::info("{}: {}; stopped before reading anything", step.name, e.what());
          return failures.any() ? kExitRuntime : kExitOk;
        }
        failures.record(step.name, e);
        return failures.config() ? kExitConfig : kExitRuntime;
      }
    }
    if (run_sources && !config.sources.empty()) {
      producer = std::make_unique<Producer>(config.kafka, bootstrap);
      queue_gauge.emplace(telemetry.registry(), *producer);
      for (const auto& step : config.sources) {
        PluginContext ctx{config.name, step.name, step.topic, {}, pipeline_dir(config), &telemetry.registry()};
        StepTelemetry& state = telemetry.add_step(step, "source");
        sources.push_back(std::make_unique<SourceRunner>(step, step.plugin->make_source(step.values, ctx), *producer,
                                                         stop, state, broker && run_sinks ? &downstream : nullptr));
        source_states.push_back(&state);
      }
    }
  } catch (const std::exception& e) {
    failures.record("start", e);
    return failures.config() ? kExitConfig : kExitRuntime;
  }

  failures.started();
  if (options.started) options.started(telemetry);
  if (http) {
    add_tap_routes(http->routes(), telemetry);
    add_page_routes(http->routes());
    http->start();  // every step's telemetry exists now; the runners' threads start next
  }

  std::vector<std::unique_ptr<Worker>> sink_workers, source_workers;
  // The state /ready reports, as far as the run knows it: a step is up
  // once its runner exists (connected) and its thread runs, stopped or
  // failed when the thread ends (the runners refine it: retrying and why).
  for (size_t i = 0; i < sinks.size(); ++i) {
    sink_workers.push_back(std::make_unique<Worker>());
    start(*sink_workers.back(), failures, sinks[i]->name(), [&failures, &stop, s = sinks[i].get(), t = sink_states[i]] {
      try {
        t->set_state(StepState::up);
        s->run();
        t->set_state(StepState::stopped);
      } catch (const Error& e) {
        // A stop that interrupted the batch in hand (a script ended mid-call)
        // loses nothing: the batch was not written, so the next run reads it.
        if (stop.requested() && (e.retriable() || e.stopped())) {
          spdlog::info("{}: {}; the batch in hand is left for the next run", s->name(), e.what());
          t->set_state(StepState::stopped);
        } else {
          failures.record(s->name(), e);
          t->set_state(StepState::failed, e.what());
        }
      } catch (const std::exception& e) {
        failures.record(s->name(), e);
        t->set_state(StepState::failed, e.what());
      }
    });
  }
  for (size_t i = 0; i < sources.size(); ++i) {
    source_workers.push_back(std::make_unique<Worker>());
    start(*source_workers.back(), failures, sources[i]->name(),
          [&failures, &stop, s = sources[i].get(), t = source_states[i]] {
      try {
        t->set_state(StepState::up);
        s->run();
        t->set_state(StepState::stopped);
      } catch (const Error& e) {
        bool stopped = stop.requested() && (e.retriable() || e.stopped());
        if (!stopped) failures.record(s->name(), e);
        t->set_state(stopped ? StepState::stopped : StepState::failed, stopped ? "" : e.what());
      } catch (const std::exception& e) {
        failures.record(s->name(), e);
        t->set_state(StepState::failed, e.what());
      }
    });
  }

  Progress progress(config.name, sources, sinks, producer.get(), telemetry);
  bool sources_finished = sources.empty();
  auto next_report = std::chrono::steady_clock::now() + options.progress_every;
  while (!(all_done(source_workers) && all_done(sink_workers))) {
    stop.wait_for(std::chrono::milliseconds(50));
    if (!sources_finished && all_done(source_workers)) {
      sources_finished = true;
      for (auto& w : source_workers) w->thread.join();
      source_workers.clear();
      // Everything produced must be acknowledged before the sources count as done.
      while (!producer->flush(std::chrono::milliseconds(500)) && !stop.requested()) {}
      std::string failure = producer->failure();
      if (!failure.empty() && !failures.any()) failures.record("producer", Error(errc::fatal, failure));
      bool all_finite = std::all_of(sources.begin(), sources.end(), [](auto& s) { return s->finite(); });
      if (all_finite && !stop.requested()) {
        try {
          for (auto& sink : sinks) sink->drain_to(high_watermarks(producer->handle(), sink->topic(), std::chrono::seconds(10)));
        } catch (const std::exception& e) {
          failures.record("drain", e);
        }
      }
    }
    if (options.progress_every.count() > 0 && std::chrono::steady_clock::now() >= next_report) {
      progress.report();
      next_report += options.progress_every;
    }
  }
  for (auto& w : source_workers) w->thread.join();
  if (producer && !producer->flush(std::chrono::seconds(30)))
    failures.record("producer", Error(errc::fatal, "records still unacknowledged after 30s at shutdown"));
  for (auto& w : sink_workers) w->thread.join();
  if (options.progress_every.count() > 0) progress.report();
  return failures.any() ? (failures.config() ? kExitConfig : kExitRuntime) : kExitOk;
}

}  // namespace sluice
