#include "observe/tap.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "observe/tap_routes.h"
#include "observe/telemetry.h"

namespace sluice {

namespace {
void offer(TapHub& hub, int64_t offset, std::string_view value = "{\"a\":1}") {
  if (hub.watched()) hub.offer("t", 0, offset, 1000, std::nullopt, value);
}
}  // namespace

TEST(TapHub, CopiesNothingWhileNoTapIsOpen) {
  TapHub hub;
  EXPECT_FALSE(hub.watched());
  for (int i = 0; i < 100; ++i) offer(hub, i);
  hub.offer("t", 0, 0, 1000, std::nullopt, "offered with nobody listening");  // the hook's race: a tap just closed
  EXPECT_EQ(hub.copies(), 0u);
  {
    Tap tap = hub.open();
    EXPECT_TRUE(hub.watched());
    offer(hub, 7);
    TapRecord r;
    ASSERT_TRUE(tap.queue().pop(r, std::chrono::milliseconds(0)));
    EXPECT_EQ(r.offset, 7);
    EXPECT_EQ(r.value, "{\"a\":1}");
    EXPECT_DOUBLE_EQ(r.unix_time, 1.0);
  }
  EXPECT_FALSE(hub.watched());
  offer(hub, 8);
  EXPECT_EQ(hub.copies(), 1u);
}

TEST(TapHub, ASlowReaderLosesTheOldestAndTheQueueStaysBounded) {
  TapHub hub;
  Tap tap = hub.open(4);
  for (int i = 0; i < 10; ++i) offer(hub, i);
  EXPECT_EQ(tap.queue().dropped(), 6u);
  TapRecord r;
  for (int expected = 6; expected < 10; ++expected) {
    ASSERT_TRUE(tap.queue().pop(r, std::chrono::milliseconds(0)));
    EXPECT_EQ(r.offset, expected);
  }
  EXPECT_FALSE(tap.queue().pop(r, std::chrono::milliseconds(0)));
}

TEST(TapHub, EveryOpenTapGetsEachRecordAndALongOneIsCut) {
  TapHub hub;
  Tap a = hub.open(), b = hub.open();
  hub.offer("t", 1, 2, -1, std::string_view("k"), std::string(TapRecord::kValueCut + 10, 'x'));
  TapRecord ra, rb;
  ASSERT_TRUE(a.queue().pop(ra, std::chrono::milliseconds(0)));
  ASSERT_TRUE(b.queue().pop(rb, std::chrono::milliseconds(0)));
  EXPECT_EQ(ra.value.size(), TapRecord::kValueCut);
  EXPECT_TRUE(ra.truncated);
  EXPECT_EQ(rb.key, std::optional<std::string>("k"));
  EXPECT_GT(rb.unix_time, 1e9);  // no timestamp: now
  a.close();
  EXPECT_TRUE(hub.watched());
  Tap moved = std::move(b);
  EXPECT_TRUE(hub.watched());  // a moved tap stays open once
  moved.close();
  EXPECT_FALSE(hub.watched());
}

// Taps opened and closed by readers while a step offers records from
// another thread: no crash, no record given to a closed tap's reader after
// it closed, and the count of open taps back at 0.
TEST(TapHub, TapsOpenedAndClosedFromThreadsWhileRecordsAreOffered) {
  TapHub hub;
  std::atomic<bool> done{false};
  std::thread step([&] {
    for (int64_t i = 0; !done.load(); ++i) offer(hub, i);
  });
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t)
    readers.emplace_back([&] {
      for (int round = 0; round < 200; ++round) {
        Tap tap = hub.open(8);
        TapRecord r;
        tap.queue().pop(r, std::chrono::milliseconds(0));
      }
    });
  for (auto& r : readers) r.join();
  done = true;
  step.join();
  EXPECT_FALSE(hub.watched());
}

TEST(TapJson, ValidJsonIsEmbeddedOnOneLineAndAnyOtherBytesEscaped) {
  simdjson::dom::parser parser;
  TapRecord r;
  r.topic = "routes";
  r.partition = 3;
  r.offset = 12;
  r.unix_time = 1.5;
  r.value = "{\"a\":\n [1, \"x\"]}";
  std::string line = tap_record_json("pg", r);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  simdjson::dom::element doc;
  ASSERT_FALSE(parser.parse(line).get(doc)) << line;
  EXPECT_EQ(int64_t(doc["record"]["a"].at(0)), 1);
  EXPECT_TRUE(doc["key"].is_null());

  r.key = std::string("k\"\x01");
  r.value = std::string("poison \xff\xfe \x1b[31m \"q\" \n\0 end", 26);
  line = tap_record_json("pg", r);
  ASSERT_FALSE(parser.parse(line).get(doc)) << line;
  EXPECT_TRUE(doc["record"].error());
  EXPECT_EQ(std::string_view(doc["record_text"]), std::string_view("poison \xEF\xBF\xBD\xEF\xBF\xBD \x1b[31m \"q\" \n\0 end", 30));
  EXPECT_EQ(std::string_view(doc["key"]), "k\"\x01");
  EXPECT_EQ(line.find('\x1b'), std::string::npos);  // escaped, not raw

  r.partition = -1;  // a source's record: not yet in Kafka
  r.offset = -1;
  ASSERT_FALSE(parser.parse(tap_record_json("src", r)).get(doc));
  EXPECT_TRUE(doc["partition"].is_null());
  EXPECT_TRUE(doc["offset"].is_null());
}

TEST(TapJson, RejectLineHasItsReasonAndTheRecordAsText) {
  RejectedRecord rr{"pg", "routes", 0, 5, "bad \"route\"\n", "{\"x\":1}", 2.0};
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string line = reject_json(rr, 9);
  ASSERT_FALSE(parser.parse(line).get(doc)) << line;
  EXPECT_EQ(std::string_view(doc["reason"]), "bad \"route\"\n");
  EXPECT_EQ(std::string_view(doc["record_text"]), "{\"x\":1}");
  EXPECT_EQ(uint64_t(doc["n"]), 9u);
}

}  // namespace sluice
