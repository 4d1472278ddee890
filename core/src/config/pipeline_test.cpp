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

TEST_F(PipelineTest, CommonOptionsAreBoundIntoTypedStructs) {
  PipelineConfig c = load(std::string(kGood) + "group = \"g1\"\nbatch_max_rows = 7\ntransform_memory = \"2 MiB\"\n");
  ASSERT_FALSE(diags_.has_errors()) << errors();
  const SinkCommon& sink = c.sinks.at(0).sink_common;
  EXPECT_EQ(sink.name, "out");
  EXPECT_EQ(sink.group, "g1");
  EXPECT_EQ(sink.batch_max_rows, 7);
  EXPECT_EQ(sink.batch_max_wait, Milliseconds(250));
  EXPECT_EQ(sink.start_from, "earliest");
  EXPECT_EQ(sink.on_expired, "error");
  EXPECT_EQ(sink.transform_memory, int64_t{2} << 20);
  EXPECT_EQ(c.sinks[0].transforms.memory_bytes, size_t{2} << 20);
  EXPECT_EQ(consumer_group(c, c.sinks[0]), "g1");
  const SourceCommon& source = c.sources.at(0).source_common;
  EXPECT_EQ(source.name, "random_routes");
  EXPECT_EQ(source.partitions, 8);
  EXPECT_EQ(source.transform_memory, int64_t{64} << 20);
}

TEST_F(PipelineTest, SizeOptionRefusesAnUnknownUnitAtItsValue) {
  load(std::string(kGood) + "transform_memory = \"64XB\"\n");
  EXPECT_NE(errors().find("p.toml:14:20: error: sinks[0].transform_memory: `64XB` is not a size"), std::string::npos)
      << errors();
}

const char* kChecker = R"([[sources]]
type = "http_checker"
topic = "checks"
regex = "ok("
targets = [
  { url = "http://127.0.0.1:1/", regex = "a(b" },
  { url = "ftp://127.0.0.1/", name = "x", methd = "GET" },
  { url = "http://127.0.0.1:2/", expect_status = [200, "30x"] },
]
)";

TEST_F(PipelineTest, InlineCheckerTargetsAreCheckedAtTheirOwnKeys) {
  load(kChecker);
  std::string e = errors();
  EXPECT_NE(e.find("p.toml:4:9: error: sources[0].regex: invalid regex: missing closing parenthesis"),
            std::string::npos) << e;
  EXPECT_NE(e.find("p.toml:6:42: error: sources[0].targets[0].regex: invalid regex: missing closing parenthesis at "
                   "offset 3"), std::string::npos) << e;
  EXPECT_NE(e.find("p.toml:7:11: error: sources[0].targets[1].url: `ftp://127.0.0.1/`: only http and https"),
            std::string::npos) << e;
  EXPECT_NE(e.find("p.toml:7:43: error: sources[0].targets[1].methd: unknown key (did you mean `method`?)"),
            std::string::npos) << e;
  EXPECT_NE(e.find("p.toml:8:56: error: sources[0].targets[2].expect_status: `30x` is not a status code"),
            std::string::npos) << e;
}

TEST_F(PipelineTest, GoodInlineCheckerTargetsLoad) {
  PipelineConfig c = load("[[sources]]\ntype = \"http_checker\"\ntopic = \"checks\"\n"
                          "[[sources.targets]]\nurl = \"http://127.0.0.1:1/\"\nregex = \"ok\"\nexpect_status = 204\n");
  ASSERT_FALSE(diags_.has_errors()) << errors();
  const auto& nested = std::get<std::shared_ptr<const OptionTables>>(c.sources.at(0).values.at("targets"));
  ASSERT_EQ(nested->tables.size(), 1u);
  EXPECT_EQ(std::get<std::vector<std::string>>(nested->tables[0].at("expect_status")), std::vector<std::string>{"204"});
}

TEST_F(PipelineTest, UpsertWithoutKeyColumnsIsRefusedAtTheModeKey) {
  const char* sink = "[[sinks]]\ntype = \"postgres\"\ntopic = \"t\"\nconninfo = \"dbname=x\"\ntable = \"t\"\n";
  load(std::string(sink) + "mode = \"upsert\"\n");
  EXPECT_NE(errors().find("p.toml:6:1: error: sinks[0].mode: mode = \"upsert\" needs key_columns"), std::string::npos)
      << errors();
  load(std::string(sink) + "mode = \"upsert\"\nkey_columns = [\"id\"]\n");
  EXPECT_EQ(errors().find("needs key_columns"), std::string::npos) << errors();
}

}  // namespace
}  // namespace sluice
