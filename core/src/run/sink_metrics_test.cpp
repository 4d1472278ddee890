#include "run/sink_metrics.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

using Input = SinkMetrics::PartitionInput;

TEST(SinkLag, CaughtUpIsZeroInRecordsAndSeconds) {
  Input in;
  in.stored = 100;
  in.high = 100;
  in.oldest_unwritten_ms = 1000;  // a stale entry must not count when nothing is behind
  const auto lag = SinkMetrics::compute_lag(3, in, 50.0);
  EXPECT_EQ(lag.partition, 3);
  EXPECT_EQ(lag.next_offset, 100);
  EXPECT_EQ(lag.high_watermark, 100);
  EXPECT_EQ(lag.seconds, 0.0);
}

TEST(SinkLag, BehindCountsFromTheStoredOffsetAndTheOldestUnwrittenRecord) {
  Input in;
  in.stored = 40;
  in.high = 100;
  in.oldest_unwritten_ms = 10'500;
  in.behind_since = 19.0;
  const auto lag = SinkMetrics::compute_lag(0, in, 20.0);
  EXPECT_EQ(lag.high_watermark - lag.next_offset, 60);
  EXPECT_DOUBLE_EQ(lag.seconds, 9.5);  // the record's own timestamp wins over when lag was first seen
}

TEST(SinkLag, NotYetConsumedIsAtLeastAsOldAsWhenFirstSeenBehind) {
  Input in;
  in.stored = 5;
  in.high = 7;
  in.behind_since = 17.0;
  EXPECT_DOUBLE_EQ(SinkMetrics::compute_lag(0, in, 20.0).seconds, 3.0);
}

TEST(SinkLag, NoStoredOffsetStartsAtTheLowWatermark) {
  Input in;
  in.low = 10;
  in.high = 25;
  const auto lag = SinkMetrics::compute_lag(0, in, 0);
  EXPECT_EQ(lag.next_offset, 10);
  EXPECT_EQ(lag.high_watermark, 25);
}

TEST(SinkLag, AStoredOffsetAboveAStaleWatermarkIsNotNegative) {
  Input in;
  in.stored = 30;
  in.high = 20;  // the last answer, older than the write
  const auto lag = SinkMetrics::compute_lag(0, in, 0);
  EXPECT_EQ(lag.high_watermark - lag.next_offset, 0);
  EXPECT_EQ(lag.seconds, 0.0);
}

TEST(SinkLag, ARecordStampedInTheFutureIsNoNegativeAge) {
  Input in;
  in.stored = 0;
  in.high = 1;
  in.oldest_unwritten_ms = 30'000;
  EXPECT_EQ(SinkMetrics::compute_lag(0, in, 20.0).seconds, 0.0);
}

}  // namespace
}  // namespace sluice
