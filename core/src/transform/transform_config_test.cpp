// The transform keys of a pipeline file: scripts resolved against the file,
// compiled at load, limits validated.
#include <gtest/gtest.h>

#include "config/pipeline.h"
#include "plugin/registry.h"
#include "transform/test_scripts.h"

namespace sluice {
namespace {

class TransformConfigTest : public ::testing::Test {
 protected:
  void SetUp() override { register_builtin_plugins(registry_); }
  PipelineConfig load(const std::string& extra) {
    diags_ = Diagnostics();
    std::string text = "[[sources]]\ntype = \"random_routes\"\ntopic = \"routes\"\n" + extra;
    return load_pipeline_text(text, dir_.path() + "/p.toml", registry_, diags_);
  }
  PluginRegistry registry_;
  Diagnostics diags_;
  testing::ScriptDir dir_;
};

TEST_F(TransformConfigTest, ScriptsResolveAgainstThePipelineFile) {
  dir_.write("ok.lua", "function transform(r) return r end");
  PipelineConfig c = load("transforms = [\"ok.lua\"]\ndead_letter_topic = \"dlq\"\ntransform_memory = \"16MB\"\n"
                          "transform_instructions = 5000\n");
  ASSERT_FALSE(diags_.has_errors()) << diags_.format();
  const TransformSettings& t = c.sources[0].transforms;
  ASSERT_EQ(t.scripts.size(), 1u);
  EXPECT_EQ(t.scripts[0], dir_.path() + "/ok.lua");
  EXPECT_EQ(t.dead_letter_topic, "dlq");
  EXPECT_EQ(t.memory_bytes, size_t{16} << 20);
  EXPECT_EQ(t.instructions, 5000);
}

TEST_F(TransformConfigTest, ACompileErrorIsADiagnosticWithLuasMessage) {
  dir_.write("bad.lua", "function transform(r)\n  return r +\nend\n");
  load("transforms = [\"bad.lua\"]\n");
  ASSERT_TRUE(diags_.has_errors());
  std::string text = diags_.format();
  EXPECT_NE(text.find("p.toml:4:14: error: sources[0].transforms: " + dir_.path() + "/bad.lua:3: unexpected symbol near 'end'"),
            std::string::npos) << text;
}

TEST_F(TransformConfigTest, NoTransformFunctionAndBadMemoryAreErrors) {
  dir_.write("none.lua", "x = 1");
  load("transforms = [\"none.lua\"]\ntransform_memory = \"10\"\n");
  std::string text = diags_.format();
  EXPECT_NE(text.find("none.lua: does not define a function transform(record, meta)"), std::string::npos) << text;
  EXPECT_NE(text.find("sources[0].transform_memory: must be at least 1MB"), std::string::npos) << text;
}

}  // namespace
}  // namespace sluice
