#include "observe/status_json.h"

#include <gtest/gtest.h>

#include "config/pipeline.h"
#include "observe/telemetry.h"

namespace sluice {

namespace {

std::string json_literal(std::string_view text) {
  std::string out;
  append_json_text(out, text);
  return out;
}

StepConfig step_named(std::string name, std::string topic) {
  StepConfig step;
  step.name = std::move(name);
  step.topic = std::move(topic);
  return step;
}

}  // namespace

TEST(StatusJson, EscapesControlCharactersAndReplacesInvalidUtf8) {
  EXPECT_EQ(json_literal("plain"), "\"plain\"");
  EXPECT_EQ(json_literal("a\"b\\c\nd\x01"), "\"a\\\"b\\\\c\\nd\\u0001\"");
  EXPECT_EQ(json_literal("caf\xC3\xA9"), "\"caf\xC3\xA9\"");  // valid UTF-8 stays as it is
  // A stray continuation byte, a cut sequence, an overlong '/', a surrogate: each byte becomes U+FFFD.
  EXPECT_EQ(json_literal("x\x80y"), "\"x\xEF\xBF\xBDy\"");
  EXPECT_EQ(json_literal("\xE2\x82"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");
  EXPECT_EQ(json_literal("\xC0\xAF"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");
  EXPECT_EQ(json_literal("\xED\xA0\x80"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
  EXPECT_EQ(json_literal(std::string("a\0b", 3)), "\"a\\u0000b\"");
}

TEST(StatusJson, StepsSourcesFirstWithTheirStateAndLag) {
  Telemetry telemetry("p\"1");
  auto sink_step = step_named("sink\n\xFF", "t");
  StepTelemetry& sink = telemetry.add_step(sink_step, "sink");
  StepTelemetry& source = telemetry.add_step(step_named("src", "t"), "source");
  source.set_state(StepState::up);
  sink.set_state(StepState::retrying, "PostgreSQL: connection refused \x01");
  sink.set_lag({{0, 10, 25, 1.5}, {1, 7, 5, 0}, {2, 3, 8, 4.25}});
  sink.records_out.add(10);

  std::string status = status_json(telemetry);
  EXPECT_NE(status.find("{\"pipeline\":\"p\\\"1\","), std::string::npos) << status;
  EXPECT_LT(status.find("\"name\":\"src\""), status.find("\"name\":\"sink\\n\xEF\xBF\xBD\"")) << status;
  EXPECT_NE(status.find("\"reason\":\"PostgreSQL: connection refused \\u0001\""), std::string::npos);
  // Lag: sum of records over partitions (a high watermark below the next offset counts 0), max of seconds.
  EXPECT_NE(status.find("\"lag_records\":20,\"lag_seconds\":4.25,"), std::string::npos) << status;
  EXPECT_NE(status.find("\"lag_records\":null,\"lag_seconds\":null,\"partitions\":[]"), std::string::npos);
  EXPECT_NE(status.find("{\"partition\":1,\"next_offset\":7,\"high_watermark\":5,\"lag_records\":0,"
                        "\"lag_seconds\":0}"), std::string::npos) << status;
  EXPECT_NE(status.find("\"records_out\":10,"), std::string::npos);
  EXPECT_NE(status.find("\"ready\":false,"), std::string::npos);

  StatusBody ready = ready_json(telemetry);
  EXPECT_FALSE(ready.ok);
  EXPECT_NE(ready.json.find("\"state\":\"retrying\",\"ready\":false,\"reason\":\"PostgreSQL"), std::string::npos);
  sink.set_state(StepState::up);
  EXPECT_TRUE(ready_json(telemetry).ok);

  StatusBody health = health_json(telemetry);
  EXPECT_TRUE(health.ok);
  EXPECT_EQ(health.json.rfind("{\"status\":\"ok\",\"components\":[{\"name\":\"src\",", 0), 0u)
      << health.json;
}

TEST(StatusJson, NoStepsIsReadyAndHealthy) {
  Telemetry telemetry("empty");
  EXPECT_TRUE(ready_json(telemetry).ok);
  EXPECT_EQ(ready_json(telemetry).json, "{\"ready\":true,\"components\":[]}\n");
  EXPECT_EQ(health_json(telemetry).json, "{\"status\":\"ok\",\"components\":[]}\n");
}

TEST(ListenAddress, SplitsHostAndPort) {
  std::string host;
  int port = 0;
  EXPECT_EQ(split_listen_address("127.0.0.1:9464", host, port), "");
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 9464);
  EXPECT_EQ(split_listen_address("[::1]:80", host, port), "");
  EXPECT_EQ(host, "::1");
  EXPECT_TRUE(is_loopback_host("::1"));
  EXPECT_TRUE(is_loopback_host("localhost"));
  EXPECT_FALSE(is_loopback_host("0.0.0.0"));
  EXPECT_FALSE(is_loopback_host("10.0.0.1"));
  EXPECT_FALSE(is_loopback_host("127.example.com"));
  EXPECT_TRUE(is_loopback_host("127.0.0.2"));
  for (const char* bad : {"localhost", ":9464", "127.0.0.1:", "::1:9464", "h:99999", "h:http", "[::1:5", "h:123456"})
    EXPECT_NE(split_listen_address(bad, host, port), "") << bad;
}

}  // namespace sluice
