#include "observe/telemetry.h"

#include <gtest/gtest.h>

namespace sluice {

TEST(RecentRejects, KeepsTheNewestAndNumbersThemForReaders) {
  RecentRejects r;
  for (int i = 1; i <= 150; ++i) r.add({"s" + std::to_string(i % 2), "t", 0, i, "why", std::string(5000, 'x'), 0});
  EXPECT_EQ(r.last(), 150u);
  auto all = r.since(0);
  ASSERT_EQ(all.size(), RecentRejects::kCapacity);
  EXPECT_EQ(all.front().first, 51u);
  EXPECT_EQ(all.front().second.offset, 51);
  EXPECT_EQ(all.back().second.offset, 150);
  EXPECT_EQ(all.back().second.record.size(), RejectedRecord::kRecordCut);
  EXPECT_GT(all.back().second.unix_time, 0);
  auto newer = r.since(148, "s0");
  ASSERT_EQ(newer.size(), 1u);
  EXPECT_EQ(newer[0].first, 150u);
}

}  // namespace sluice
