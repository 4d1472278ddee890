#include "route_generator.h"

#include <gtest/gtest.h>

#include <map>
#include <regex>

using random_routes::Defect;
using random_routes::GeneratorSettings;
using random_routes::RouteGenerator;

TEST(RouteGenerator, SameSeedSameRecords) {
  GeneratorSettings s;
  s.seed = 7;
  s.invalid_ratio = 0.3;
  RouteGenerator a(s), b(s);
  std::string ra, rb;
  for (int64_t i = 0; i < 1000; ++i) {
    a.next(i, ra);
    b.next(i, rb);
    ASSERT_EQ(ra, rb) << "record " << i;
  }
  s.seed = 8;
  RouteGenerator c(s);
  RouteGenerator d(GeneratorSettings{.users = 1000, .seed = 7, .invalid_ratio = 0.3});
  std::string rc, rd;
  c.next(0, rc);
  d.next(0, rd);
  EXPECT_NE(rc, rd);
}

TEST(RouteGenerator, ValidRecordsHaveFieldsInRange) {
  GeneratorSettings s;
  s.users = 5;
  s.start_ts = 1000.0;
  RouteGenerator g(s);
  std::regex shape(
      R"(\{"seq":(\d+),"user_id":(\d+),"ts":([0-9.]+),"lat":(-?[0-9.]+),"lon":(-?[0-9.]+)\})");
  std::string r;
  for (int64_t i = 0; i < 2000; ++i) {
    ASSERT_EQ(g.next(i, r), Defect::none);
    std::smatch m;
    ASSERT_TRUE(std::regex_match(r, m, shape)) << r;
    EXPECT_EQ(std::stoll(m[1]), i);
    int64_t user = std::stoll(m[2]);
    EXPECT_GE(user, 1);
    EXPECT_LE(user, 5);
    EXPECT_NEAR(std::stod(m[3]), 1000.0 + 0.001 * static_cast<double>(i), 1e-6);
    double lat = std::stod(m[4]), lon = std::stod(m[5]);
    EXPECT_GE(lat, -90.0);
    EXPECT_LE(lat, 90.0);
    EXPECT_GE(lon, -180.0);
    EXPECT_LE(lon, 180.0);
  }
}

TEST(RouteGenerator, InvalidRatioProducesEveryDefectAtAboutThatShare) {
  GeneratorSettings s;
  s.invalid_ratio = 0.2;
  RouteGenerator g(s);
  std::map<Defect, int> seen;
  std::string r;
  const int n = 20000;
  for (int64_t i = 0; i < n; ++i) {
    Defect d = g.next(i, r);
    ++seen[d];
    switch (d) {
      case Defect::out_of_range: {
        auto at = r.find("\"lat\":");
        EXPECT_GT(std::stod(r.substr(at + 6)), 90.0) << r;
        break;
      }
      case Defect::missing_field: EXPECT_EQ(r.find("user_id"), std::string::npos) << r; break;
      case Defect::wrong_type: EXPECT_NE(r.find("\"lat\":\"north\""), std::string::npos) << r; break;
      case Defect::not_json: EXPECT_NE(r.front(), '{') << r; break;
      case Defect::none: break;
    }
  }
  EXPECT_NEAR(static_cast<double>(n - seen[Defect::none]) / n, 0.2, 0.02);
  for (Defect d : {Defect::out_of_range, Defect::missing_field, Defect::wrong_type, Defect::not_json})
    EXPECT_GT(seen[d], n / 40) << static_cast<int>(d);
}
