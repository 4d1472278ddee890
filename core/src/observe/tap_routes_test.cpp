// /api/tap and /api/rejects over loopback, with a real cpp-httplib server.
#include "observe/tap_routes.h"

#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>
#include <simdjson.h>

#include "config/pipeline.h"
#include "observe/telemetry.h"

namespace sluice {

namespace {

class TapRoutes : public ::testing::Test {
 protected:
  void SetUp() override {
    StepConfig step;
    step.name = "pg";
    step.topic = "routes";
    pg_ = &telemetry_.add_step(step, "sink");
    add_tap_routes(server_, telemetry_);
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // Bound: a connection waits in the backlog until the accept loop runs.
  }
  void TearDown() override {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  httplib::Client client() { return httplib::Client("127.0.0.1", port_); }

  Telemetry telemetry_{"demo"};
  StepTelemetry* pg_ = nullptr;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

std::vector<std::string> lines(const std::string& body) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t nl; (nl = body.find('\n', start)) != std::string::npos; start = nl + 1) out.push_back(body.substr(start, nl - start));
  return out;
}

}  // namespace

TEST_F(TapRoutes, TapStreamsTheRecordsOfferedWhileItIsOpenUpToItsLimit) {
  std::thread step([this] {
    while (!pg_->tap.watched()) std::this_thread::yield();  // the reader's tap is open
    for (int i = 0; i < 5; ++i) pg_->tap.offer("routes", 1, 10 + i, 2000, std::nullopt, "{\"i\":" + std::to_string(i) + "}");
  });
  auto res = client().Get("/api/tap?step=pg&limit=3&wait=60");
  step.join();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/x-ndjson");
  auto got = lines(res->body);
  ASSERT_EQ(got.size(), 3u) << res->body;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_FALSE(parser.parse(got[2]).get(doc));
  EXPECT_EQ(int64_t(doc["offset"]), 12);
  EXPECT_EQ(int64_t(doc["record"]["i"]), 2);
  EXPECT_EQ(std::string_view(doc["step"]), "pg");
  EXPECT_FALSE(pg_->tap.watched());  // closed when the stream ended
}

TEST_F(TapRoutes, AnUnknownStepIs404NamingTheKnownOnes) {
  auto res = client().Get("/api/tap?step=nope");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_NE(res->body.find("no step named \\\"nope\\\"; the steps are: pg"), std::string::npos) << res->body;
  res = client().Get("/api/tap");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
}

TEST_F(TapRoutes, RejectsComeFromTheRingFirstThenAsTheyHappen) {
  for (int i = 0; i < 3; ++i) {
    RejectedRecord r;
    r.topic = "routes";
    r.partition = 0;
    r.offset = i;
    r.reason = "bad \"lat\"";
    r.record = "{\"lat\":\"north\"}\xff";
    pg_->reject("transform", r);
  }
  auto res = client().Get("/api/rejects?step=pg&after=1");
  ASSERT_TRUE(res);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_FALSE(parser.parse(res->body).get(doc)) << res->body;
  EXPECT_EQ(uint64_t(doc["last"]), 3u);
  simdjson::dom::array rejects = doc["rejects"];
  ASSERT_EQ(rejects.size(), 2u);
  EXPECT_EQ(uint64_t(rejects.at(0)["n"]), 2u);
  EXPECT_EQ(std::string_view(rejects.at(0)["reason"]), "bad \"lat\"");
  EXPECT_EQ(std::string_view(rejects.at(0)["record_text"]), "{\"lat\":\"north\"}\xEF\xBF\xBD");

  // The stream starts with the ring's latest, as many as asked.
  res = client().Get("/api/tap?step=pg&rejects=1&limit=2&wait=60");
  ASSERT_TRUE(res);
  auto got = lines(res->body);
  ASSERT_EQ(got.size(), 2u) << res->body;
  ASSERT_FALSE(parser.parse(got[0]).get(doc));
  EXPECT_EQ(int64_t(doc["offset"]), 1);
  ASSERT_FALSE(parser.parse(got[1]).get(doc));
  EXPECT_EQ(int64_t(doc["offset"]), 2);
}

TEST_F(TapRoutes, ARejectWhileTheStreamWaitsIsSent) {
  // Whether it comes before the stream starts (then from the ring) or while
  // it waits, it is the one line sent.
  std::thread later([this] {
    RejectedRecord r;
    r.reason = "later";
    pg_->reject("transform", r);
  });
  auto res = client().Get("/api/tap?step=pg&rejects=1&limit=1&wait=60");
  later.join();
  ASSERT_TRUE(res);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_FALSE(parser.parse(res->body).get(doc)) << res->body;
  EXPECT_EQ(std::string_view(doc["reason"]), "later");
  EXPECT_TRUE(doc["partition"].is_null());
}

// A stop of the server while a tap waits for records that never come ends
// the stream (the test would hang otherwise).
TEST_F(TapRoutes, AServerStopEndsAWaitingTap) {
  std::thread reader([this] { client().Get("/api/tap?step=pg&limit=10&wait=3600"); });
  while (!pg_->tap.watched()) std::this_thread::yield();
  server_.stop();
  reader.join();
  thread_.join();
  EXPECT_FALSE(pg_->tap.watched());
}

// Taps hold server threads: beyond the most at once, a 503 rather than a
// server whose /metrics no longer answers.
TEST_F(TapRoutes, TooManyTapsAtOnceAre503) {
  std::vector<std::thread> readers;
  for (int i = 0; i < 6; ++i) readers.emplace_back([this] { client().Get("/api/tap?step=pg&limit=1&wait=3600"); });
  while (pg_->tap.open_taps() < 6) std::this_thread::yield();
  auto res = client().Get("/api/tap?step=pg&limit=1&wait=0");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_NE(res->body.find("taps are open already"), std::string::npos) << res->body;
  pg_->tap.offer("routes", 0, 0, 0, std::nullopt, "{}");  // each of the six gets its one record and ends
  for (auto& r : readers) r.join();
  res = client().Get("/api/tap?step=pg&limit=1&wait=0");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

}  // namespace sluice
