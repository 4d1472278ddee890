#include "route_generator.h"

#include <cstdio>

namespace random_routes {

RouteGenerator::RouteGenerator(const GeneratorSettings& settings)
    : settings_(settings), rng_(static_cast<uint64_t>(settings.seed)) {}

Defect RouteGenerator::next(int64_t seq, std::string& out) {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  int64_t user = 1 + static_cast<int64_t>(rng_() % static_cast<uint64_t>(settings_.users));
  double lat = -90.0 + 180.0 * unit(rng_);
  double lon = -180.0 + 360.0 * unit(rng_);
  double ts = settings_.start_ts + static_cast<double>(seq) * settings_.ts_step;
  Defect defect = Defect::none;
  if (settings_.invalid_ratio > 0 && unit(rng_) < settings_.invalid_ratio)
    defect = static_cast<Defect>(1 + rng_() % 4);

  char buf[192];
  int n = 0;
  switch (defect) {
    case Defect::none:
      n = std::snprintf(buf, sizeof buf,
                        R"({"seq":%lld,"user_id":%lld,"ts":%.6f,"lat":%.6f,"lon":%.6f})",
                        static_cast<long long>(seq), static_cast<long long>(user), ts, lat, lon);
      break;
    case Defect::out_of_range:  // latitude beyond the pole
      n = std::snprintf(buf, sizeof buf,
                        R"({"seq":%lld,"user_id":%lld,"ts":%.6f,"lat":%.6f,"lon":%.6f})",
                        static_cast<long long>(seq), static_cast<long long>(user), ts, 90.0 + 1.0 + 89.0 * unit(rng_), lon);
      break;
    case Defect::missing_field:  // no user_id
      n = std::snprintf(buf, sizeof buf, R"({"seq":%lld,"ts":%.6f,"lat":%.6f,"lon":%.6f})",
                        static_cast<long long>(seq), ts, lat, lon);
      break;
    case Defect::wrong_type:  // lat is a string
      n = std::snprintf(buf, sizeof buf,
                        R"({"seq":%lld,"user_id":%lld,"ts":%.6f,"lat":"north","lon":%.6f})",
                        static_cast<long long>(seq), static_cast<long long>(user), ts, lon);
      break;
    case Defect::not_json:
      n = std::snprintf(buf, sizeof buf, "seq=%lld user=%lld <not json>", static_cast<long long>(seq),
                        static_cast<long long>(user));
      break;
  }
  out.assign(buf, static_cast<size_t>(n));
  return defect;
}

}  // namespace random_routes
