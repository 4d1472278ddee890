#include "scheduler.h"

#include <gtest/gtest.h>

#include <map>

using http_checker::Scheduler;
using namespace std::chrono_literals;

namespace {

std::vector<std::chrono::milliseconds> same(size_t n, std::chrono::milliseconds interval) {
  return std::vector<std::chrono::milliseconds>(n, interval);
}

}  // namespace

TEST(Scheduler, FirstChecksAreSpreadEvenlyOverTheInterval) {
  Scheduler::Time t0{};
  Scheduler s(same(4, 2000ms), t0);
  std::vector<Scheduler::Time> firsts;
  for (auto now = t0; now < t0 + 2000ms; now += 1ms)
    while (auto due = s.pop_due(now)) firsts.push_back(now);
  ASSERT_EQ(firsts.size(), 4u);
  EXPECT_EQ(firsts[0], t0);
  EXPECT_EQ(firsts[1], t0 + 500ms);
  EXPECT_EQ(firsts[2], t0 + 1000ms);
  EXPECT_EQ(firsts[3], t0 + 1500ms);
}

TEST(Scheduler, NextSlotComesFromTheScheduleNotFromWhenTheCheckEnded) {
  Scheduler::Time t0{};
  Scheduler s(same(1, 1000ms), t0);
  auto due = s.pop_due(t0 + 30ms);  // started 30 ms late
  ASSERT_TRUE(due);
  EXPECT_EQ(due->lag, 30ms);
  s.done(0, t0 + 700ms);            // and took 670 ms
  EXPECT_EQ(*s.next_due(), t0 + 1000ms);
  // an hour of checks does not drift
  for (int k = 1; k < 3600; ++k) {
    auto now = t0 + k * 1000ms;
    ASSERT_TRUE(s.pop_due(now));
    s.done(0, now + 250ms);
  }
  EXPECT_EQ(*s.next_due(), t0 + 3600 * 1000ms);
  EXPECT_EQ(s.skipped_slots(), 0u);
}

TEST(Scheduler, ACheckInFlightIsNeverDueAgainAndMissedSlotsAreSkipped) {
  Scheduler::Time t0{};
  Scheduler s(same(1, 1000ms), t0);
  ASSERT_TRUE(s.pop_due(t0));
  EXPECT_FALSE(s.pop_due(t0 + 2500ms));  // still running: not started twice
  EXPECT_FALSE(s.next_due());
  s.done(0, t0 + 2500ms);
  EXPECT_EQ(*s.next_due(), t0 + 3000ms);  // stays on the grid
  EXPECT_EQ(s.skipped_slots(), 2u);       // the slots at 1 s and 2 s
}

TEST(Scheduler, ZeroIntervalRunsAgainAsSoonAsACheckEnds) {
  Scheduler::Time t0{};
  Scheduler s(same(2, 0ms), t0);
  ASSERT_TRUE(s.pop_due(t0));
  ASSERT_TRUE(s.pop_due(t0));
  s.done(1, t0 + 3ms);
  auto due = s.pop_due(t0 + 3ms);
  ASSERT_TRUE(due);
  EXPECT_EQ(due->target, 1u);
}

TEST(Scheduler, EachTargetKeepsItsOwnInterval) {
  Scheduler::Time t0{};
  Scheduler s({1000ms, 3000ms}, t0);
  std::map<size_t, int> checks;
  for (auto now = t0; now < t0 + 6000ms; now += 10ms)
    while (auto due = s.pop_due(now)) {
      ++checks[due->target];
      s.done(due->target, now + 5ms);
    }
  EXPECT_EQ(checks[0], 6);
  EXPECT_EQ(checks[1], 2);
}
