// Deterministic generator of route records: the same settings give the same
// records, byte for byte.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>

namespace random_routes {

// How an invalid record is broken (chosen at random among these).
enum class Defect { none, out_of_range, missing_field, wrong_type, not_json };

struct GeneratorSettings {
  int64_t users = 1000;
  int64_t seed = 1;
  double invalid_ratio = 0;
  double start_ts = 0;    // ts of record 0, epoch seconds
  double ts_step = 0.001; // seconds between consecutive records' ts
};

class RouteGenerator {
 public:
  explicit RouteGenerator(const GeneratorSettings& settings);
  // Writes record `seq` (records must be asked for in order) into `out`.
  Defect next(int64_t seq, std::string& out);

 private:
  GeneratorSettings settings_;
  std::mt19937_64 rng_;
};

}  // namespace random_routes
