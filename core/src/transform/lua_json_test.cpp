#include "transform/lua_json.h"

#include <gtest/gtest.h>

extern "C" {
#include <lauxlib.h>
}

#include "transform/lua_record.h"
#include "transform/lua_state.h"

namespace sluice {
namespace {

class JsonTest : public ::testing::Test {
 protected:
  std::string round_trip(std::string_view json) {
    std::string error, out;
    EXPECT_TRUE(decoder_.push(lua_.get(), json, error)) << error;
    EXPECT_TRUE(lua_to_json(lua_.get(), -1, out, error)) << error;
    lua_pop(lua_.get(), 1);
    return out;
  }
  // Runs `code` (a function of the decoded value) and encodes what it returns.
  std::string through(std::string_view json, const char* code) {
    std::string error, out;
    lua_State* L = lua_.get();
    EXPECT_EQ(luaL_loadstring(L, code), LUA_OK);
    EXPECT_TRUE(decoder_.push(L, json, error)) << error;
    EXPECT_EQ(lua_pcall(L, 1, 1, 0), LUA_OK) << lua_tostring(L, -1);
    EXPECT_TRUE(lua_to_json(L, -1, out, error)) << error;
    lua_pop(L, 1);
    return out;
  }
  LuaState lua_{{}, ""};
  JsonToLua decoder_;
};

TEST_F(JsonTest, UntouchedValuesSurviveUnchanged) {
  for (const char* json : {R"({"id":9007199254740993})", R"({"id":-9223372036854775808})",
                           R"({"id":9223372036854775807})", R"({"f":1.0})", R"({"f":0.1})",
                           R"({"f":-2.5e-300})", R"({"f":1e+300})", R"({"ts":1700000000.123})", R"({"f":1e+20})",
                           R"({"f":0.00001})", R"({"f":1.5e-07})", R"({"f":-0.0})", R"({"n":null})", R"({"a":[]})",
                           R"({"o":{}})", R"({"a":[1,null,3]})", R"({"a":[[[{"deep":[true,false]}]]]})",
                           R"({"u":"héllo wörld ✓ 😀"})", R"({"e":"quote\" backslash\\ nl\n tab\t ctl\u0001"})",
                           R"([1,2.5,"x",null])", R"({"s":""})"})
    EXPECT_EQ(round_trip(json), json);
}

TEST_F(JsonTest, IntegersAndFloatsStayApart) {
  EXPECT_EQ(through(R"({"i":3,"f":3.0})", "local r = ... return {r.i + 1, r.f + 1, r.i / 1, r.i // 1}"), "[4,4.0,3.0,3]");
  EXPECT_EQ(through(R"({"big":9007199254740993})", "local r = ... r.big = r.big + 1 return r"),
            R"({"big":9007199254740994})");
}

TEST_F(JsonTest, NullStaysNull) {
  EXPECT_EQ(through(R"({"n":null})", "local r = ... assert(r.n == sluice.null) return r"), R"({"n":null})");
}

TEST_F(JsonTest, EmptyTablesKeepTheirKind) {
  EXPECT_EQ(through(R"({"a":[1]})", "local r = ... table.remove(r.a) return r"), R"({"a":[]})");
  EXPECT_EQ(through(R"({})", "return {x = {}, y = sluice.array(), z = sluice.object{}}").size(),
            std::string(R"({"x":{},"y":[],"z":{}})").size());
  EXPECT_EQ(through(R"({})", "return {1, 2, 3}"), "[1,2,3]");
  EXPECT_NE(through(R"({})", "return {[1] = 'a', [3] = 'c'}").find("\"3\":\"c\""), std::string::npos);
}

TEST_F(JsonTest, WhatCannotBeEncodedSaysWhat) {
  lua_State* L = lua_.get();
  std::string out, error;
  luaL_dostring(L, "return {f = function() end}");
  EXPECT_FALSE(lua_to_json(L, -1, out, error));
  EXPECT_EQ(error, "cannot encode a function as JSON");
  lua_pop(L, 1);
  luaL_dostring(L, "return {x = 0/0}");
  EXPECT_FALSE(lua_to_json(L, -1, out, error));
  EXPECT_EQ(error, "cannot encode NaN or infinity as JSON");
  lua_pop(L, 1);
  luaL_dostring(L, "local t = {} t.t = t return t");
  EXPECT_FALSE(lua_to_json(L, -1, out, error));
  EXPECT_NE(error.find("nested too deeply"), std::string::npos);
  lua_pop(L, 1);
}

// Found by tests/fuzz/lua_bridge_fuzz: lua_topointer is null for a number or
// boolean, which compared equal to "no lazy record", so such a record counted
// as changed however untouched.
TEST_F(JsonTest, AnUntouchedScalarRecordCountsAsUnchanged) {
  lua_State* L = lua_.get();
  RecordDecoder records(L);
  for (std::string_view text : {"0", "1.50", "true", "\"s\"", "[1]"}) {
    std::string error;
    ASSERT_TRUE(records.push(L, text, error)) << error;
    EXPECT_TRUE(records.unchanged(L, -1)) << text;
    lua_pop(L, 1);
  }
}

TEST_F(JsonTest, HelpersEncodeAndDecode) {
  lua_State* L = lua_.get();
  ASSERT_EQ(luaL_dostring(L, "local v = sluice.json.decode('{\"a\":[1,2.0,null]}') "
                             "assert(v.a[3] == sluice.null) return sluice.json.encode(v)"),
            LUA_OK) << lua_tostring(L, -1);
  EXPECT_STREQ(lua_tostring(L, -1), R"({"a":[1,2.0,null]})");
  lua_pop(L, 1);
  ASSERT_EQ(luaL_dostring(L, "return select(2, sluice.json.decode('nope'))"), LUA_OK);
  EXPECT_EQ(std::string(lua_tostring(L, -1)).rfind("not valid JSON", 0), 0u);
  lua_pop(L, 1);
}

}  // namespace
}  // namespace sluice
