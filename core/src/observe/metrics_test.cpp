#include "sluice/metrics.h"

#include <gtest/gtest.h>

namespace sluice::metrics {

TEST(Metrics, CountersAndGaugesRenderWithCommonLabelsFirst) {
  Registry r(Labels{{"pipeline", "demo"}});
  r.counter("sluice_records_out_total", "Records out", {{"step", "pg"}}).add(3);
  r.gauge("sluice_up", "Up", {}).set(1.5);
  EXPECT_EQ(r.render(),
            "# HELP sluice_records_out_total Records out\n"
            "# TYPE sluice_records_out_total counter\n"
            "sluice_records_out_total{pipeline=\"demo\",step=\"pg\"} 3\n"
            "# HELP sluice_up Up\n"
            "# TYPE sluice_up gauge\n"
            "sluice_up{pipeline=\"demo\"} 1.5\n");
}

TEST(Metrics, SameNameAndLabelsIsTheSameMetric) {
  Registry r;
  auto& a = r.counter("x_total", "X", {{"step", "a"}});
  auto& b = r.counter("x_total", "X", {{"step", "a"}});
  EXPECT_EQ(&a, &b);
  EXPECT_NE(&a, &r.counter("x_total", "X", {{"step", "b"}}));
  EXPECT_THROW(r.gauge("x_total", "X", {}), std::logic_error);
}

TEST(Metrics, HistogramBucketsAreCumulativeWithSumAndCount) {
  Registry r;
  auto& h = r.histogram("d_seconds", "D", {}, {0.1, 1});
  h.observe(0.0625);
  h.observe(0.5);
  h.observe(7);
  std::vector<uint64_t> counts(3, 0);
  counts[h.bucket_of(0.01)] += 2;
  h.observe_many(counts, 0.4375);
  EXPECT_EQ(r.render(),
            "# HELP d_seconds D\n# TYPE d_seconds histogram\n"
            "d_seconds_bucket{le=\"0.1\"} 3\n"
            "d_seconds_bucket{le=\"1\"} 4\n"
            "d_seconds_bucket{le=\"+Inf\"} 5\n"
            "d_seconds_sum 8\n"
            "d_seconds_count 5\n");
}

TEST(Metrics, LabelValuesAreEscapedAndCollectorsRunAtRender) {
  Registry r;
  int calls = 0;
  auto id = r.add_collector("lag", "Lag", Type::gauge, [&](std::vector<Sample>& out) {
    ++calls;
    out.push_back({{{"step", "a\"b\\c\nd"}}, 2});
  });
  EXPECT_EQ(r.render(), "# HELP lag Lag\n# TYPE lag gauge\nlag{step=\"a\\\"b\\\\c\\nd\"} 2\n");
  r.remove_collector(id);
  EXPECT_EQ(r.render(), "");
  EXPECT_EQ(calls, 1);
}

}  // namespace sluice::metrics
