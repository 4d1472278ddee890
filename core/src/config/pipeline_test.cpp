#include "config/pipeline.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "plugin/registry.h"

namespace sluice {
namespace {

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override { register_builtin_plugins(registry_); }
  PipelineConfig load(const std::string& text) {
    diags_ = Diagnostics();
    return load_pipeline_text(text, "p.toml", registry_, diags_);
  }
  std::string errors() const { return diags_.format(); }
  PluginRegistry registry_;
  Diagnostics diags_;
};

const char* kGood = R"(
name = "routes"
[[sources]]
type = "random_routes"
topic = "routes"
count = 10
partitions = 8
[[sinks]]
name = "out"
type = "file"
topic = "routes"
path = "/tmp/x.jsonl"
batch_max_wait = "250ms"
)";

TEST_F(PipelineTest, GoodPipelineLoadsWithDefaults) {
  PipelineConfig c = load(kGood);
  ASSERT_FALSE(diags_.has_errors()) << errors();
  EXPECT_EQ(c.name, "routes");
  EXPECT_TRUE(c.kafka.embedded());
  ASSERT_EQ(c.sources.size(), 1u);
  EXPECT_EQ(c.sources[0].name, "random_routes");
  EXPECT_EQ(std::get<int64_t>(c.sources[0].values.at("partitions")), 8);
  EXPECT_EQ(std::get<int64_t>(c.sources[0].values.at("users")), 1000);
  ASSERT_EQ(c.sinks.size(), 1u);
  EXPECT_EQ(std::get<Milliseconds>(c.sinks[0].values.at("batch_max_wait")), Milliseconds(250));
  EXPECT_EQ(std::get<std::string>(c.sinks[0].values.at("start_from")), "earliest");
}

TEST_F(PipelineTest, UnknownKeyNamesLineColumnAndNearestKey) {
  load("[[sinks]]\ntype = \"file\"\ntopic = \"t\"\npath = \"/tmp/x\"\nbatch_max_row = 5\n");
  EXPECT_NE(errors().find("p.toml:5:1: error: sinks[0].batch_max_row: unknown key (did you mean "
                          "`batch_max_rows`?)"),
            std::string::npos)
      << errors();
}

TEST_F(PipelineTest, WrongTypeMissingRequiredAndRange) {
  load("[[sources]]\ntype = \"random_routes\"\ncount = \"ten\"\ninvalid_ratio = 2.0\n");
  std::string e = errors();
  EXPECT_NE(e.find("p.toml:3:9: error: sources[0].count: expected an integer, found a string"), std::string::npos) << e;
  EXPECT_NE(e.find("sources[0].topic: missing required option"), std::string::npos) << e;
  EXPECT_NE(e.find("p.toml:4:17: error: sources[0].invalid_ratio: must be at most 1"), std::string::npos) << e;
}

TEST_F(PipelineTest, UnknownPluginTypeSuggestsTheNearest) {
  load("[[sinks]]\ntype = \"flie\"\ntopic = \"t\"\n");
  EXPECT_NE(errors().find("p.toml:2:8: error: sinks[0].type: unknown sink type `flie` (did you mean `file`?)"),
            std::string::npos)
      << errors();
}

TEST_F(PipelineTest, DuplicateNamesAreErrors) {
  load("[[sinks]]\nname = \"a\"\ntype = \"stdout\"\ntopic = \"t\"\n"
       "[[sinks]]\nname = \"a\"\ntype = \"stdout\"\ntopic = \"t\"\n");
  EXPECT_NE(errors().find("error: a: duplicate name"), std::string::npos) << errors();
}

TEST_F(PipelineTest, SinkOnUndeclaredTopicIsOnlyAWarning) {
  load("[[sinks]]\ntype = \"stdout\"\ntopic = \"elsewhere\"\n");
  EXPECT_FALSE(diags_.has_errors()) << errors();
  EXPECT_NE(errors().find("warning: stdout: no source in this pipeline produces topic `elsewhere`"),
            std::string::npos);
}

TEST_F(PipelineTest, UnsetVariableIsAnErrorAtItsPlace) {
  ::unsetenv("SLUICE_T_NOPE");
  load("[kafka]\nbootstrap_servers = \"${SLUICE_T_NOPE}\"\n[[sinks]]\ntype = \"stdout\"\ntopic = \"t\"\n");
  EXPECT_NE(errors().find("p.toml:2:21: error: kafka.bootstrap_servers: environment variable `SLUICE_T_NOPE` is not set"),
            std::string::npos)
      << errors();
}

TEST_F(PipelineTest, SecretsAreCollectedAndRedacted) {
  ::setenv("SLUICE_T_PW", "hunter2hunter2", 1);
  PipelineConfig c = load("[kafka]\nsasl_password = \"${SLUICE_T_PW}\"\nsasl_mechanism = \"PLAN\"\n"
                          "[kafka.librdkafka]\n\"ssl.key.password\" = \"k3yk3yk3y\"\n"
                          "[[sinks]]\ntype = \"stdout\"\ntopic = \"t\"\n");
  EXPECT_TRUE(c.secret_values.count("hunter2hunter2"));
  EXPECT_TRUE(c.secret_values.count("k3yk3yk3y"));
  EXPECT_EQ(redact("a hunter2hunter2 b k3yk3yk3y", c.secret_values), "a *** b ***");
  EXPECT_NE(errors().find("`PLAN` is not one of: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 (did you mean `PLAIN`?)"),
            std::string::npos)
      << errors();
}

TEST_F(PipelineTest, TomlSyntaxErrorHasPosition) {
  load("[[sinks]]\ntype = \"stdout\ntopic = \"t\"\n");
  EXPECT_NE(errors().find("p.toml:2:"), std::string::npos) << errors();
  EXPECT_TRUE(diags_.has_errors());
}

}  // namespace
}  // namespace sluice
