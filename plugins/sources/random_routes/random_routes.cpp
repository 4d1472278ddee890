// Source `random_routes`: synthetic GPS route points, optionally with a share
// of deliberately broken records to exercise validation downstream.
#include <chrono>
#include <optional>

#include "route_generator.h"
#include "sluice/plugin_info.h"

namespace {

struct RoutesConfig {
  std::optional<int64_t> count;
  std::optional<double> rate;
  int64_t users = 1000;
  int64_t seed = 1;
  double invalid_ratio = 0;
  std::optional<double> start_ts;
};

class RandomRoutes : public sluice::Source {
 public:
  RandomRoutes(const RoutesConfig& config, const sluice::PluginContext&) : config_(config) {}

  bool finite() const override { return config_.count.has_value(); }

  void run(sluice::Emitter& emitter) override {
    using Clock = std::chrono::steady_clock;
    random_routes::GeneratorSettings g;
    g.users = config_.users;
    g.seed = config_.seed;
    g.invalid_ratio = config_.invalid_ratio;
    g.start_ts = config_.start_ts.value_or(
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
    g.ts_step = config_.rate ? 1.0 / *config_.rate : 0.001;
    random_routes::RouteGenerator generator(g);
    std::string record;
    const auto started = Clock::now();
    for (int64_t seq = 0; !config_.count || seq < *config_.count; ++seq) {
      if (emitter.stopping()) return;
      if (config_.rate) {
        // Pace against the schedule, not the previous record, so the rate does not drift.
        double due = static_cast<double>(seq) / *config_.rate;
        double now = std::chrono::duration<double>(Clock::now() - started).count();
        if (due - now > 0.001 && !emitter.wait_for(due - now)) return;
      }
      generator.next(seq, record);
      emitter.emit(record);
    }
  }

 private:
  RoutesConfig config_;
};

}  // namespace

sluice::PluginInfo sluice_builtin_random_routes() {
  static const auto options = sluice::Options<RoutesConfig>()
    .integer("count", &RoutesConfig::count, "stop after this many records (default: run forever)")
      .at_least(0)
    .number("rate", &RoutesConfig::rate, "records per second (default: as fast as possible)")
      .range(0.001, 1e9)
    .integer("users", &RoutesConfig::users, "user_id is drawn from 1..users").def(1000).range(1, 1e12)
    .integer("seed", &RoutesConfig::seed, "random seed: the same seed gives the same records").def(1)
    .number("invalid_ratio", &RoutesConfig::invalid_ratio,
            "share of records made invalid (out-of-range lat, missing user_id, string lat, not JSON)")
      .def(0.0).range(0, 1)
    .number("start_ts", &RoutesConfig::start_ts,
            "ts of record 0 in epoch seconds (default: now); later records add 1/rate (or 1 ms)");
  return sluice::source_plugin<RandomRoutes>(
      "random_routes", "generates route points {seq, user_id, ts, lat, lon}", options);
}
