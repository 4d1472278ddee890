#include "transform/transform_chain.h"

#include <gtest/gtest.h>

#include "transform/test_scripts.h"

namespace sluice {
namespace {

struct Result {
  TransformOutcome outcome;
  std::vector<std::string> values;
  std::vector<TransformOutput> outputs;
  std::string out, reason;
};

class ChainTest : public ::testing::Test {
 protected:
  std::unique_ptr<TransformChain> chain(const std::vector<std::pair<std::string, std::string>>& scripts,
                                        TransformLimits limits = {}) {
    std::vector<std::string> paths;
    for (const auto& [name, text] : scripts) paths.push_back(dir_.write(name, text));
    return std::make_unique<TransformChain>(paths, limits);
  }
  Result run(TransformChain& c, std::string_view value, RecordMeta meta = {}) {
    Result r;
    r.outcome = c.run(value, meta, r.out, r.outputs);
    for (const auto& o : r.outputs) r.values.emplace_back(o.value(r.out, value));
    r.reason = c.reason();
    return r;
  }
  testing::ScriptDir dir_;
};

TEST_F(ChainTest, PassesTheChangedTable) {
  auto c = chain({{"add.lua", "function transform(r, meta) r.b = r.a * 2 return r end"}});
  auto r = run(*c, R"({"a":21})");
  ASSERT_EQ(r.outcome, TransformOutcome::pass);
  ASSERT_EQ(r.values.size(), 1u);
  EXPECT_EQ(r.values[0].find(R"("b":42)") != std::string::npos, true) << r.values[0];
}

TEST_F(ChainTest, AnUntouchedRecordKeepsItsTextByteForByte) {
  auto c = chain({{"pass.lua", "function transform(r) local _ = r.a .. r.n.x return r end"}});
  const std::string text = R"({ "a" : "x", "f": 1.50, "big": 18446744073709551615, "n": {"x": "y", "l": [1, {}]}, "z": null })";
  auto r = run(*c, text);
  ASSERT_EQ(r.outcome, TransformOutcome::pass);
  ASSERT_EQ(r.values.size(), 1u);
  EXPECT_EQ(r.values[0], text);
  EXPECT_TRUE(r.outputs[0].value_is_input);  // the input itself, not a copy
  EXPECT_TRUE(r.out.empty());
}

TEST_F(ChainTest, AnyChangeIsEncodedAfresh) {
  const std::string text = R"({"a": 1, "n": {"x": [1, 2]}, "e": {}})";
  for (const char* change : {"r.a = 1.0",            // integer to float: the same number, not the same JSON
                             "r.n.x[2] = 3",         // deep inside
                             "r.n.x[3] = 3",         // an array grows
                             "r.e.k = 1",            // an empty object fills
                             "r.b = false",          // a new field
                             "r.a = nil",            // a field removed
                             "setmetatable(r.n.x, nil)",  // no longer marked an array
                             "r.n = {x = {1, 2}}"}) {  // equal content, but a plain table: `x` loses its array marker
    auto c = chain({{"change.lua", std::string("function transform(r) ") + change + " return r end"}});
    auto r = run(*c, text);
    ASSERT_EQ(r.outcome, TransformOutcome::pass) << change << ": " << r.reason;
    ASSERT_EQ(r.values.size(), 1u);
    EXPECT_NE(r.values[0], text) << change;
  }
}

TEST_F(ChainTest, AnyChangeOfAFlatRecordIsEncodedAfresh) {
  const std::string text = R"({"i": 1, "f": 1.5, "s": "x", "b": true, "z": null, "u": 18446744073709551615})";
  for (const char* change : {"r.i = 2", "r.i = 1.0", "r.f = 2.5", "r.f = 1", "r.s = 'y'", "r.s = 1",
                             "r.b = false", "r.z = false", "r.u = 1", "r.i = nil", "r.extra = 0",
                             "r.i, r.extra = nil, 1", "sluice.array(r)"}) {
    auto c = chain({{"change.lua", std::string("function transform(r) ") + change + " return r end"}});
    auto r = run(*c, text);
    ASSERT_EQ(r.outcome, TransformOutcome::pass) << change << ": " << r.reason;
    ASSERT_EQ(r.values.size(), 1u);
    EXPECT_NE(r.values[0], text) << change;
  }
  for (const char* same : {"r.i = 1", "r.f = 1.5", "r.s = 'x'", "r.b = true", "r.extra = 1 r.extra = nil"}) {
    auto c = chain({{"same.lua", std::string("function transform(r) ") + same + " return r end"}});
    auto r = run(*c, text);
    ASSERT_EQ(r.values.size(), 1u);
    EXPECT_EQ(r.values[0], text) << same;
  }
}

TEST_F(ChainTest, RecordsOfChangingShapeKeepTheirFieldNames) {
  // Field names are cached by position from one record to the next.
  auto c = chain({{"add.lua", "function transform(r) r.n = (r.a or 0) + (r.b or 0) return r end"}});
  const std::pair<const char*, const char*> cases[] = {
      {R"({"a":1,"b":2})", R"("n":3)"}, {R"({"b":2,"a":1})", R"("n":3)"}, {R"({"a":5,"c":2})", R"("n":5)"},
      {R"({"b":7})", R"("n":7)"},       {R"({"a":1,"b":2})", R"("n":3)"}};
  for (const auto& [in, expected] : cases) {
    auto r = run(*c, in);
    ASSERT_EQ(r.values.size(), 1u) << in;
    EXPECT_NE(r.values[0].find(expected), std::string::npos) << in << " -> " << r.values[0];
  }
  auto r = run(*c, R"({"c":1,"a":2})");
  ASSERT_EQ(r.values.size(), 1u);
  EXPECT_NE(r.values[0].find(R"("c":1)"), std::string::npos) << r.values[0];
  EXPECT_NE(r.values[0].find(R"("a":2)"), std::string::npos) << r.values[0];
}

TEST_F(ChainTest, ARecordReadLazilyBehavesAsAPlainTable) {
  // Each check runs on a fresh record: reading fields leaves it lazy, and
  // these all have to see (or turn it into) the plain table.
  const std::string text = R"({"a": 1, "s": "x", "n": {"x": [1, 2]}, "z": null})";
  for (const char* check : {
           "assert(type(r) == 'table' and r.a == 1 and r.s == 'x' and r.z == sluice.null and r.missing == nil)",
           "assert(r[1] == nil and rawequal(r, r))",
           "local k = {} for name in pairs(r) do k[#k + 1] = name end table.sort(k) "
           "assert(table.concat(k, ',') == 'a,n,s,z', table.concat(k, ','))",
           "assert(next(r) ~= nil)",
           "assert(rawget(r, 'a') == 1)",
           "rawset(r, 'b', 2) assert(r.b == 2 and r.a == 1)",
           "assert(#r == 0 and rawlen(r) == 0)",
           "assert(getmetatable(r) == nil)",
           "setmetatable(r, {__index = function() return 7 end}) assert(r.a == 1 and r.other == 7)",
           "assert(r.n.x[2] == 2) r.n.x[2] = 3 assert(r.n.x[2] == 3)",
           "assert(sluice.json.decode(sluice.json.encode(r)).n.x[1] == 1)",
           "local count = 0 for _ in ipairs(r) do count = count + 1 end assert(count == 0)",
       }) {
    auto c = chain({{"check.lua", std::string("function transform(r) ") + check + " return r end"}});
    auto r = run(*c, text);
    ASSERT_EQ(r.outcome, TransformOutcome::pass) << check << ": " << r.reason;
  }
}

TEST_F(ChainTest, ARecordKeptFromAnEarlierCallCanStillBeRead) {
  auto c = chain({{"keep.lua", R"(
local kept = {}
function transform(r)
  local previous = kept[#kept]
  kept[#kept + 1] = r
  if previous then r.previous_a, r.previous_x = previous.a, previous.n.x end
  if #kept == 3 then
    local names = {}
    for name in pairs(kept[1]) do names[#names + 1] = name end
    table.sort(names)
    r.first_names = table.concat(names, ",")
  end
  return r
end)"}});
  run(*c, R"({"a": 1, "n": {"x": "one"}})");
  auto second = run(*c, R"({"a": 2, "n": {"x": "two"}})");
  ASSERT_EQ(second.values.size(), 1u) << second.reason;
  EXPECT_NE(second.values[0].find(R"("previous_a":1)"), std::string::npos) << second.values[0];
  EXPECT_NE(second.values[0].find(R"("previous_x":"one")"), std::string::npos) << second.values[0];
  auto third = run(*c, R"({"a": 3, "n": {"x": "three"}})");
  ASSERT_EQ(third.values.size(), 1u) << third.reason;
  EXPECT_NE(third.values[0].find(R"("previous_x":"two")"), std::string::npos) << third.values[0];
  EXPECT_NE(third.values[0].find(R"("first_names":"a,n")"), std::string::npos) << third.values[0];
}

TEST_F(ChainTest, RepeatedNamesReadAsTheLastOne) {
  auto c = chain({{"read.lua", "function transform(r) return {a = r.a} end"}});
  auto r = run(*c, R"({"a": 1, "b": 0, "a": 2})");
  ASSERT_EQ(r.values.size(), 1u);
  EXPECT_EQ(r.values[0], R"({"a":2})");
  // Handed on untouched, such a record is not passed as its text: a sink
  // could take the first value, which the script never saw.
  auto pass = chain({{"pass.lua", "function transform(r) assert(r.amount == 10) return r end"}});
  r = run(*pass, R"({"amount": -5, "amount": 10})");
  ASSERT_EQ(r.values.size(), 1u) << r.reason;
  EXPECT_EQ(r.values[0], R"({"amount":10})");
}

TEST_F(ChainTest, ARecordNestedTooDeeplyIsRejectedBeforeAnyScript) {
  std::string deep = R"({"a":)" + std::string(300, '[') + std::string(300, ']') + "}";
  auto c = chain({{"wrap.lua", "function transform(r) return {payload = r} end"}});
  auto r = run(*c, deep);
  EXPECT_EQ(r.outcome, TransformOutcome::reject);
  EXPECT_EQ(r.reason.rfind("not valid JSON: ", 0), 0u) << r.reason;
  std::string fine = R"({"a":)" + std::string(150, '[') + std::string(150, ']') + "}";
  r = run(*c, fine);
  ASSERT_EQ(r.outcome, TransformOutcome::pass) << r.reason;
  EXPECT_EQ(r.values[0].size(), fine.size() + std::string(R"({"payload":})").size());
}

TEST_F(ChainTest, AFieldAddedToARecordWithARepeatedKeyIsKept) {
  auto c = chain({{"add.lua", "function transform(r) r.b = 2 return r end"}});
  auto r = run(*c, R"({"a":1,"a":1})");
  ASSERT_EQ(r.values.size(), 1u);
  EXPECT_NE(r.values[0].find(R"("b":2)"), std::string::npos) << r.values[0];
}

TEST_F(ChainTest, AnotherTableWithTheSameContentIsEncoded) {
  auto c = chain({{"copy.lua", "function transform(r) return {a = r.a} end"}});
  auto r = run(*c, R"({ "a" : 1 })");
  ASSERT_EQ(r.values.size(), 1u);
  EXPECT_EQ(r.values[0], R"({"a":1})");
}

TEST_F(ChainTest, NilDrops) {
  auto c = chain({{"drop.lua", "function transform(r) if r.skip then return nil end return r end"}});
  EXPECT_EQ(run(*c, R"({"skip":true})").outcome, TransformOutcome::drop);
  EXPECT_EQ(run(*c, R"({"skip":false})").outcome, TransformOutcome::pass);
}

TEST_F(ChainTest, NilAndReasonRejectsNamingTheScript) {
  auto c = chain({{"check.lua", "function transform(r) return nil, 'lat out of range: ' .. tostring(r.lat) end"}});
  auto r = run(*c, R"({"lat":123})");
  EXPECT_EQ(r.outcome, TransformOutcome::reject);
  EXPECT_EQ(r.reason, "check.lua: lat out of range: 123");
  EXPECT_TRUE(r.values.empty());
}

TEST_F(ChainTest, ErrorRejectsWithPosition) {
  auto c = chain({{"boom.lua", "function transform(r)\n  error('boom')\nend"}});
  auto r = run(*c, R"({})");
  EXPECT_EQ(r.outcome, TransformOutcome::reject);
  EXPECT_EQ(r.reason, "boom.lua:2: boom");
}

TEST_F(ChainTest, NotJsonIsRejectedBeforeAnyScript) {
  auto c = chain({{"count.lua", "n = 0 function transform(r) n = n + 1 error('ran') end"}});
  auto r = run(*c, "seq=5 user=17 <not json>");
  EXPECT_EQ(r.outcome, TransformOutcome::reject);
  EXPECT_EQ(r.reason.rfind("not valid JSON: ", 0), 0u) << r.reason;
}

TEST_F(ChainTest, ManySplitsInOrder) {
  auto c = chain({{"split.lua", R"(function transform(r)
    local out = {}
    for i, p in ipairs(r.points) do out[i] = {id = r.id, n = i, p = p} end
    return sluice.many(out)
  end)"}});
  auto r = run(*c, R"({"id":7,"points":[10,20,30]})");
  ASSERT_EQ(r.outcome, TransformOutcome::pass);
  ASSERT_EQ(r.values.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_NE(r.values[i].find("\"n\":" + std::to_string(i + 1)), std::string::npos);
  EXPECT_EQ(run(*c, R"({"id":7,"points":[]})").outcome, TransformOutcome::drop);
}

TEST_F(ChainTest, ChainFeedsEachOutputToTheNextScript) {
  auto c = chain({{"split.lua", "function transform(r) return sluice.many{{v=1},{v=2},{v=3}} end"},
                  {"odd.lua", "function transform(r) if r.v % 2 == 0 then return nil end r.odd = true return r end"}});
  auto r = run(*c, "{}");
  ASSERT_EQ(r.values.size(), 2u);
  EXPECT_NE(r.values[0].find("\"v\":1"), std::string::npos) << r.values[0];
  EXPECT_NE(r.values[0].find("\"odd\":true"), std::string::npos) << r.values[0];
  EXPECT_NE(r.values[1].find("\"v\":3"), std::string::npos);
}

TEST_F(ChainTest, ARejectLaterInTheChainRejectsTheWholeRecord) {
  auto c = chain({{"split.lua", "function transform(r) return sluice.many{{v=1},{v=2}} end"},
                  {"no2.lua", "function transform(r) if r.v == 2 then return nil, 'two' end return r end"}});
  auto r = run(*c, "{}");
  EXPECT_EQ(r.outcome, TransformOutcome::reject);
  EXPECT_EQ(r.reason, "no2.lua: two");
  EXPECT_TRUE(r.outputs.empty());
  EXPECT_TRUE(r.out.empty());
}

TEST_F(ChainTest, MetaIsReadableAndReadOnly) {
  auto c = chain({{"meta.lua", R"(function transform(r, meta)
    if r.write then meta.topic = 'x' end
    r.t, r.p, r.o, r.k, r.h = meta.topic, meta.partition, meta.offset, meta.key, meta.headers.trace
    r.ts = meta.timestamp
    return r
  end)"}});
  std::vector<HeaderView> headers{{"trace", "abc"}};
  RecordMeta meta{"routes", 3, 99, std::string_view("k1"), 1700000000500, headers};
  auto r = run(*c, "{}", meta);
  ASSERT_EQ(r.outcome, TransformOutcome::pass);
  for (const char* part : {R"("t":"routes")", R"("p":3)", R"("o":99)", R"("k":"k1")", R"("h":"abc")", R"("ts":1700000000.5)"})
    EXPECT_NE(r.values[0].find(part), std::string::npos) << part << " in " << r.values[0];
  auto w = run(*c, R"({"write":true})", meta);
  EXPECT_EQ(w.outcome, TransformOutcome::reject);
  EXPECT_NE(w.reason.find("meta is read-only"), std::string::npos) << w.reason;
}

TEST_F(ChainTest, KeyAndHeadersCanBeSet) {
  auto c = chain({{"key.lua", R"(function transform(r, meta)
    meta.set_key(r.user)
    meta.set_header('source', 'lua')
    return r
  end)"},
                  {"see.lua", "function transform(r, meta) r.seen_key = meta.key return r end"}});
  auto r = run(*c, R"({"user":42})", RecordMeta{"t", 0, 0, std::string_view("old"), -1, {}});
  ASSERT_EQ(r.outcome, TransformOutcome::pass);
  ASSERT_EQ(r.outputs.size(), 1u);
  const auto& o = r.outputs[0];
  EXPECT_TRUE(o.key_set);
  EXPECT_EQ(r.out.substr(o.key_begin, o.key_end - o.key_begin), "42");
  ASSERT_EQ(o.headers.size(), 1u);
  EXPECT_EQ(o.headers[0].first, "source");
  EXPECT_NE(r.values[0].find(R"("seen_key":"42")"), std::string::npos) << r.values[0];
}

TEST_F(ChainTest, StateSurvivesAcrossRecords) {
  auto c = chain({{"count.lua", "local n = 0\nfunction transform(r) n = n + 1 r.n = n return r end"}});
  run(*c, "{}");
  auto r = run(*c, "{}");
  EXPECT_EQ(r.values[0], R"({"n":2})");
}

TEST_F(ChainTest, ScriptsHaveTheirOwnGlobals) {
  auto c = chain({{"a.lua", "x = 1 function transform(r) r.a = x return r end"},
                  {"b.lua", "x = 2 function transform(r) r.b = x return r end"}});
  auto r = run(*c, "{}");
  EXPECT_NE(r.values[0].find(R"("a":1)"), std::string::npos);
  EXPECT_NE(r.values[0].find(R"("b":2)"), std::string::npos);
}

TEST_F(ChainTest, BadReturnIsAReject) {
  auto c = chain({{"bad.lua", "function transform(r) return 5 end"}});
  auto r = run(*c, "{}");
  EXPECT_EQ(r.outcome, TransformOutcome::reject);
  EXPECT_NE(r.reason.find("bad.lua: transform returned a number"), std::string::npos) << r.reason;
}

TEST_F(ChainTest, MissingTransformFunctionFailsToLoad) {
  EXPECT_THROW(chain({{"none.lua", "local x = 1"}}), std::runtime_error);
}

TEST_F(ChainTest, CompileErrorNamesFileAndLine) {
  try {
    chain({{"broken.lua", "function transform(r)\n  return r\n"}});
    FAIL() << "loaded";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("broken.lua:3: 'end' expected", 0), 0u) << e.what();
  }
}

TEST_F(ChainTest, EndlessLoopIsARejectAndTheStateStaysUsable) {
  auto c = chain({{"loop.lua", "function transform(r) if r.loop then while true do end end return r end"}},
                 TransformLimits{100'000, 64u << 20});
  auto r = run(*c, R"({"loop":true})");
  EXPECT_EQ(r.outcome, TransformOutcome::reject);
  EXPECT_NE(r.reason.find("instruction budget exceeded"), std::string::npos) << r.reason;
  EXPECT_EQ(r.reason.rfind("loop.lua:1:", 0), 0u) << r.reason;
  EXPECT_EQ(run(*c, R"({"loop":false})").outcome, TransformOutcome::pass);
}

TEST_F(ChainTest, RunawayAllocationIsARejectAndTheStateStaysUsable) {
  auto c = chain({{"hog.lua", R"(function transform(r)
    if r.hog then local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 100) .. i end end
    return r
  end)"}},
                 TransformLimits{1'000'000'000, 8u << 20});
  auto r = run(*c, R"({"hog":true})");
  EXPECT_EQ(r.outcome, TransformOutcome::reject);
  EXPECT_NE(r.reason.find("memory limit exceeded"), std::string::npos) << r.reason;
  EXPECT_EQ(run(*c, R"({"hog":false})").outcome, TransformOutcome::pass);
}

}  // namespace
}  // namespace sluice
