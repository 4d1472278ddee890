#include "observe/json_log.h"

#include <gtest/gtest.h>
#include <simdjson.h>

namespace sluice {

TEST(JsonLog, EachLineIsOneObjectWithTheStepTheMessageNames) {
  set_log_context("demo", {"pg", "routes"});
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string line = json_log_line(1764620012345, "warn", "pg: write failed: \"x\"\nnext \xff line");
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  ASSERT_FALSE(parser.parse(line).get(doc)) << line;
  EXPECT_EQ(std::string_view(doc["time"]), "2025-12-01T20:13:32.345Z");
  EXPECT_EQ(std::string_view(doc["level"]), "warn");
  EXPECT_EQ(std::string_view(doc["pipeline"]), "demo");
  EXPECT_EQ(std::string_view(doc["step"]), "pg");
  EXPECT_EQ(std::string_view(doc["message"]), "pg: write failed: \"x\"\nnext \xEF\xBF\xBD line");

  ASSERT_FALSE(parser.parse(json_log_line(0, "info", "embedded broker: up")).get(doc));
  EXPECT_TRUE(doc["step"].is_null());  // not a step of the pipeline
  set_log_context({}, {});
  ASSERT_FALSE(parser.parse(json_log_line(0, "info", "x")).get(doc));
  EXPECT_TRUE(doc["pipeline"].is_null());
}

}  // namespace sluice
