#include "sluice/retry.h"

#include <gtest/gtest.h>

#include <thread>

#include "run/stop_signal.h"
#include "sluice/error.h"

namespace sluice {
namespace {

using std::chrono::milliseconds;

TEST(ErrorCode, ClassFollowsTheCodeAndTheClassGivesACode) {
  Error foreign(errc::offsets_foreign, "x");
  EXPECT_EQ(foreign.error_class(), ErrorClass::fatal);
  EXPECT_EQ(foreign.code(), errc::offsets_foreign);
  EXPECT_EQ(foreign.code().category().name(), std::string("sluice"));
  EXPECT_EQ(Error(errc::unavailable, "x").error_class(), ErrorClass::retriable);
  EXPECT_TRUE(Error(errc::unavailable, "x").retriable());
  EXPECT_EQ(Error(errc::bad_record, "x").error_class(), ErrorClass::per_record);
  EXPECT_EQ(Error(ErrorClass::config, "x").code(), errc::config);
  EXPECT_EQ(Error(ErrorClass::fenced, "x").code(), errc::fenced);
  EXPECT_TRUE(Error(errc::stopped, "x").stopped());
  EXPECT_FALSE(Error(ErrorClass::fatal, "x").stopped());
  EXPECT_NE(std::error_code(errc::fatal), std::make_error_code(std::errc::io_error));
}

TEST(Backoff, DoublesWithJitterUpToTheCap) {
  Backoff backoff({milliseconds(100), milliseconds(1000)});
  int64_t step = 100;
  for (int i = 0; i < 40; ++i) {
    int64_t d = backoff.next().count();
    EXPECT_GE(d, step / 2) << i;
    EXPECT_LE(d, step) << i;
    step = std::min<int64_t>(step * 2, 1000);
  }
  backoff.reset();
  EXPECT_LE(backoff.next().count(), 100);
}

TEST(Retry, RetriesRetriableErrorsUntilSuccess) {
  StopSignal stop;
  int calls = 0, retried = 0;
  int got = retry(
      [&] {
        if (++calls < 3) throw Error(errc::unavailable, "down");
        return 7;
      },
      stop, {{milliseconds(1), milliseconds(2)}, 0}, [&](const Error&, int failures) { retried = failures; });
  EXPECT_EQ(got, 7);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(retried, 2);
}

TEST(Retry, OtherErrorsPassAtOnceAndAttemptsAreBounded) {
  StopSignal stop;
  int calls = 0;
  EXPECT_THROW(retry([&] { ++calls; throw Error(errc::fatal, "no"); }, stop, {}), Error);
  EXPECT_EQ(calls, 1);
  calls = 0;
  try {
    retry([&] { ++calls; throw Error(errc::unavailable, "down"); }, stop, {{milliseconds(1), milliseconds(1)}, 4});
    FAIL();
  } catch (const Error& e) {
    EXPECT_TRUE(e.retriable());
  }
  EXPECT_EQ(calls, 4);
}

TEST(Retry, AStopRequestEndsTheWaitAtOnce) {
  StopSignal stop;
  std::thread stopper([&] { stop.request(); });
  auto started = std::chrono::steady_clock::now();
  try {
    // Each wait would last about an hour but for the stop.
    retry([] { throw Error(errc::unavailable, "down"); }, stop, {{std::chrono::hours(1), std::chrono::hours(1)}, 0});
    FAIL();
  } catch (const Error& e) {
    EXPECT_TRUE(e.stopped());
    EXPECT_NE(std::string(e.what()).find("down"), std::string::npos);
  }
  stopper.join();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(60));
}

TEST(Retry, ASinkWithoutARunNeverStops) {
  EXPECT_FALSE(never_stopped().stop_requested());
  EXPECT_FALSE(never_stopped().wait_for(milliseconds(1)));
}

}  // namespace
}  // namespace sluice
