#include "checker_source.h"

#include <algorithm>
#include <mutex>
#include <thread>
#include <unordered_set>

#include <spdlog/spdlog.h>

#include "multi_loop.h"
#include "scheduler.h"

namespace http_checker {

namespace {

using Clock = std::chrono::steady_clock;

void init_curl_once() {
  // curl_global_init is not thread-safe everywhere: done once, before any
  // source thread starts.
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
      throw std::runtime_error("http_checker: curl_global_init failed");
  });
}

// Check slots, created on demand up to `concurrency` and then only reused.
class Slots {
 public:
  Slots(const SessionSettings& session, size_t limit) : session_(session), limit_(limit) {}
  Check* acquire() {
    if (free_.empty()) {
      if (all_.size() >= limit_) return nullptr;
      all_.push_back(std::make_unique<Check>(session_));
      return all_.back().get();
    }
    Check* c = free_.back();
    free_.pop_back();
    return c;
  }
  void release(Check* c) { free_.push_back(c); }
  bool available() const { return !free_.empty() || all_.size() < limit_; }
  // The slots whose transfer is still running.
  std::vector<Check*> busy() const {
    std::unordered_set<const Check*> idle(free_.begin(), free_.end());
    std::vector<Check*> out;
    for (const auto& c : all_)
      if (!idle.count(c.get())) out.push_back(c.get());
    return out;
  }

 private:
  const SessionSettings& session_;
  size_t limit_;
  std::vector<std::unique_ptr<Check>> all_;
  std::vector<Check*> free_;
};

// Easy handles must leave the multi handle before either is cleaned up,
// whichever way run() ends.
class InFlight {
 public:
  InFlight(MultiLoop& multi, Slots& slots) : multi_(multi), slots_(slots) {}
  ~InFlight() {
    for (Check* c : slots_.busy()) {
      try {
        multi_.remove(c->easy());
      } catch (const std::exception&) {
        // Nothing better to do while unwinding; the handle is freed next anyway.
      }
    }
  }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;

 private:
  MultiLoop& multi_;
  Slots& slots_;
};

}  // namespace

CheckerSource::CheckerSource(const CheckerConfig& config, const sluice::PluginContext& ctx)
    : config_(with_paths_from(config, ctx.pipeline_dir)), name_(ctx.name), metrics_(ctx.metrics, ctx.name) {
  init_curl_once();
  targets_ = load_targets(config_, name_);
  session_.user_agent = config_.user_agent;
  session_.follow_redirects = config_.follow_redirects;
  session_.max_redirects = static_cast<long>(config_.max_redirects);
  session_.max_body_bytes = static_cast<size_t>(config_.max_body_bytes);
}

void CheckerSource::log_progress(double elapsed_s, bool final) const {
  uint64_t checks = counters_.checks.load();
  double lag_avg_ms =
      checks ? static_cast<double>(counters_.lag_us_total.load()) / 1000.0 / static_cast<double>(checks) : 0.0;
  double lag_max_ms = static_cast<double>(counters_.lag_us_max.load()) / 1000.0;
  double rate = elapsed_s > 0 ? static_cast<double>(checks) / elapsed_s : 0.0;
  if (final)
    spdlog::info("{}: summary: checks: {}, failed: {}, {:.1f} checks/s over {:.1f}s, scheduling lag avg {:.1f} ms "
                 "max {:.1f} ms, skipped slots: {}, cancelled at stop: {}",
                 name_, checks, counters_.failed.load(), rate, elapsed_s, lag_avg_ms, lag_max_ms,
                 counters_.skipped_slots.load(), counters_.cancelled.load());
  else
    spdlog::info("{}: checks: {} ({:.1f}/s), failed: {}, scheduling lag avg {:.1f} ms max {:.1f} ms, "
                 "skipped slots: {}, in flight: {}",
                 name_, checks, rate, counters_.failed.load(), lag_avg_ms, lag_max_ms,
                 counters_.skipped_slots.load(), counters_.in_flight.load());
}

void CheckerSource::run(sluice::Emitter& emitter) {
  const auto started = Clock::now();
  // Every thread has at least one slot: no more threads than `concurrency`.
  const auto workers = static_cast<size_t>(
      std::min({config_.threads, config_.concurrency, static_cast<int64_t>(std::max<size_t>(targets_.size(), 1))}));
  spdlog::info("{}: {} target(s), concurrency {}, {} thread(s), first checks spread over each target's interval",
               name_, targets_.size(), config_.concurrency, workers);
  std::vector<std::thread> others;
  std::vector<std::exception_ptr> errors(workers);
  for (size_t w = 1; w < workers; ++w)
    others.emplace_back([&, w] {
      try {
        run_worker(w, workers, emitter, started);
      } catch (...) {
        errors[w] = std::current_exception();
        abort_ = true;  // the other threads stop too
      }
    });
  try {
    run_worker(0, workers, emitter, started);
  } catch (...) {
    errors[0] = std::current_exception();
    abort_ = true;
  }
  for (auto& t : others) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
  log_progress(std::chrono::duration<double>(Clock::now() - started).count(), true);
}

void CheckerSource::run_worker(size_t worker, size_t workers, sluice::Emitter& emitter, Clock::time_point started) {
  std::vector<size_t> mine;  // local index -> index in targets_
  std::vector<std::chrono::milliseconds> intervals;
  for (size_t i = worker; i < targets_.size(); i += workers) {
    mine.push_back(i);
    intervals.push_back(targets_[i].interval);
  }
  const auto concurrency = static_cast<size_t>(config_.concurrency);
  const size_t share = std::max<size_t>(1, concurrency / workers + (worker < concurrency % workers ? 1 : 0));
  Scheduler scheduler(intervals, started);
  MultiLoop multi;
  Slots slots(session_, share);
  std::string record;
  record.reserve(1024);
  uint64_t skipped_reported = 0;

  InFlight in_flight(multi, slots);
  CheckerMetrics::Worker metrics(metrics_);
  auto next_log = started + config_.log_every;
  while (!emitter.stopping() && !abort_) {
    auto now = Clock::now();
    // When every slot is busy, due targets wait and their lag grows (and is reported).
    while (slots.available()) {
      auto due = scheduler.pop_due(now);
      if (!due) break;
      Check* check = slots.acquire();
      auto lag = std::chrono::duration_cast<std::chrono::microseconds>(due->lag);
      counters_.add_lag(static_cast<uint64_t>(lag.count()));
      metrics.started(due->lag);
      check->start(targets_[mine[due->target]], due->target);
      multi.add(check->easy());
      counters_.in_flight.fetch_add(1, std::memory_order_relaxed);
    }

    auto wait = std::chrono::milliseconds(100);  // also how soon a stop is noticed
    if (auto next = scheduler.next_due(); next && slots.available())
      wait = std::clamp(std::chrono::ceil<std::chrono::milliseconds>(*next - now), std::chrono::milliseconds(0), wait);
    multi.poll(wait);

    multi.for_each_done([&](CURL* easy, CURLcode code) {
      void* priv = nullptr;
      curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
      auto* check = static_cast<Check*>(priv);
      multi.remove(easy);
      const CheckResult& result = check->finish(code);
      write_record(result, record);
      scheduler.done(check->target_index(), Clock::now());
      counters_.in_flight.fetch_sub(1, std::memory_order_relaxed);
      counters_.skipped_slots.fetch_add(scheduler.skipped_slots() - skipped_reported, std::memory_order_relaxed);
      metrics.finished(result.error, result.response_ms / 1000.0, scheduler.skipped_slots() - skipped_reported);
      skipped_reported = scheduler.skipped_slots();
      emitter.emit(record, result.url);
      counters_.checks.fetch_add(1, std::memory_order_relaxed);
      if (result.error) counters_.failed.fetch_add(1, std::memory_order_relaxed);
      slots.release(check);  // only now: `result` lives in the slot
    });

    if (worker == 0 && config_.log_every.count() > 0 && Clock::now() >= next_log) {
      log_progress(std::chrono::duration<double>(Clock::now() - started).count(), false);
      next_log += config_.log_every;
    }
  }
  counters_.cancelled.fetch_add(slots.busy().size());
  metrics.cancelled(slots.busy().size());
  counters_.in_flight.fetch_sub(slots.busy().size());
}

}  // namespace http_checker
