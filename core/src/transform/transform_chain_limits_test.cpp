// A chain under hostile scripts and records: every limit ends as a reject,
// the heap stays within its cap, and a state the limit left untrustworthy
// is made again before the next record.
#include "transform/transform_chain.h"

#include <gtest/gtest.h>

#include "transform/test_scripts.h"

namespace sluice {
namespace {

// Counts the records the state has seen in a global, returned in the record:
// a state made again starts over.
constexpr char kCounting[] = R"(
function transform(r)
  seen = (seen or 0) + 1
  if r.hog then local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 100) .. i end end
  if r.loop then while true do pcall(function() while true do end end) end end
  if r.bomb then local t = {} for i = 1, 40 do t = {t, t} end r.bomb = t end
  r.seen = seen
  return r
end
)";

class ChainLimits : public ::testing::Test {
 protected:
  void SetUp() override {
    chain_ = std::make_unique<TransformChain>(std::vector<std::string>{dir_.write("count.lua", kCounting)},
                                              TransformLimits{1'000'000, 8u << 20});
  }
  TransformOutcome run(std::string_view value) {
    out_.clear();
    outputs_.clear();
    return chain_->run(value, RecordMeta{}, out_, outputs_);
  }
  std::string value() const { return std::string(outputs_.at(0).value(out_, "")); }

  testing::ScriptDir dir_;
  std::unique_ptr<TransformChain> chain_;
  std::string out_;
  std::vector<TransformOutput> outputs_;
};

TEST_F(ChainLimits, AnInstructionBudgetRejectKeepsTheState) {
  ASSERT_EQ(run(R"({"a":1})"), TransformOutcome::pass);
  ASSERT_EQ(run(R"({"loop":true})"), TransformOutcome::reject);
  EXPECT_NE(chain_->reason().find("count.lua:5: instruction budget exceeded"), std::string::npos) << chain_->reason();
  ASSERT_EQ(run(R"({"a":1})"), TransformOutcome::pass);
  EXPECT_NE(value().find(R"("seen":3)"), std::string::npos) << value();
  EXPECT_EQ(chain_->reloads(), 0);
}

TEST_F(ChainLimits, TheMemoryCapRebuildsTheStateBeforeTheNextRecord) {
  ASSERT_EQ(run(R"({"a":1})"), TransformOutcome::pass);
  ASSERT_EQ(run(R"({"hog":true})"), TransformOutcome::reject);
  EXPECT_EQ(chain_->reason(), "count.lua: memory limit exceeded (8 MB per Lua state)");
  EXPECT_LE(chain_->memory_peak(), 8u << 20);
  ASSERT_EQ(run(R"({"a":1})"), TransformOutcome::pass);
  EXPECT_NE(value().find(R"("seen":1)"), std::string::npos) << value();  // a fresh state
  EXPECT_EQ(chain_->reloads(), 1);
}

TEST_F(ChainLimits, AnOutputThatWouldOutgrowTheCapIsAReject) {
  ASSERT_EQ(run(R"({"bomb":true})"), TransformOutcome::reject);
  // Whichever comes first: the text's size or the values' count.
  const std::string& reason = chain_->reason();
  EXPECT_EQ(reason.rfind("count.lua: the record cannot be encoded: ", 0), 0u) << reason;
  EXPECT_TRUE(reason.find("the JSON text would be larger than 8 MB") != std::string::npos ||
              reason.find("instruction budget exceeded") != std::string::npos)
      << reason;
  EXPECT_TRUE(out_.empty());
  ASSERT_EQ(run(R"({"a":1})"), TransformOutcome::pass);
}

TEST_F(ChainLimits, ARecordLargerThanTheCapIsARejectNotAnAbort) {
  // Many fields: decoded eagerly, the whole tree at once.
  std::string wide = "{";
  for (int i = 0; i < 40; ++i) wide += "\"f" + std::to_string(i) + "\":0,";
  wide += "\"big\":[";
  for (int i = 0; i < 600'000; ++i) wide += (i ? ",\"" : "\"") + std::to_string(i) + "\"";
  wide += "]}";
  // Few fields: read lazily, from a copy of the text.
  const std::string lazy = R"({"text":")" + std::string(10u << 20, 'x') + "\"}";
  for (const std::string* record : std::initializer_list<const std::string*>{&wide, &lazy}) {
    ASSERT_EQ(run(*record), TransformOutcome::reject);
    EXPECT_EQ(chain_->reason(), "the record cannot be read: memory limit exceeded (8 MB per Lua state)");
    EXPECT_LE(chain_->memory_peak(), 8u << 20);
    ASSERT_EQ(run(R"({"a":1})"), TransformOutcome::pass);
  }
}

}  // namespace
}  // namespace sluice
