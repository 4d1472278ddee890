#include "row_encoder.h"

#include <gtest/gtest.h>

namespace pgsink {
namespace {

Column col(const std::string& name, const std::string& type, const std::string& path = "") {
  Column c;
  c.name = name;
  c.type = type;
  c.kind = column_kind(type);
  c.field_path = path.empty() ? name : path;
  return c;
}

std::vector<Column> routes() {
  return {col("seq", "bigint"), col("user_id", "integer"), col("ts", "timestamp with time zone"),
          col("lat", "double precision", "coordinates.lat")};
}

TEST(RowEncoder, TypedRoutesRowWithNestedField) {
  RowEncoder enc(routes());
  std::string out, reason;
  ASSERT_TRUE(enc.encode(R"({"seq":9007199254740993,"user_id":42,"ts":1700000000.25,"coordinates":{"lat":-12.5}})",
                         out, reason)) << reason;
  EXPECT_EQ(out, "9007199254740993\t42\t2023-11-14 22:13:20.250000+00\t-12.5\n");
}

TEST(RowEncoder, RejectsWithReasonsAndLeavesOutputUntouched) {
  RowEncoder enc(routes());
  std::string out = "previous\n", reason;
  EXPECT_FALSE(enc.encode("seq=1 <not json>", out, reason));
  EXPECT_NE(reason.find("not valid JSON"), std::string::npos) << reason;
  EXPECT_FALSE(enc.encode(R"({"seq":1,"ts":1,"coordinates":{"lat":1}})", out, reason));
  EXPECT_EQ(reason, "missing field `user_id` (column user_id)");
  EXPECT_FALSE(enc.encode(R"({"seq":1,"user_id":1,"ts":1,"coordinates":{"lat":"north"}})", out, reason));
  EXPECT_EQ(reason, "column lat (double precision): field `coordinates.lat` is a string, expected a number");
  EXPECT_FALSE(enc.encode(R"({"seq":1,"user_id":3000000000,"ts":1,"coordinates":{"lat":1}})", out, reason));
  EXPECT_NE(reason.find("out of range"), std::string::npos) << reason;
  EXPECT_FALSE(enc.encode("[1,2]", out, reason));
  EXPECT_EQ(out, "previous\n");
}

TEST(RowEncoder, TextIsEscapedJsonIsMinifiedNullIsNull) {
  RowEncoder enc({col("name", "text"), col("doc", "jsonb"), col("flag", "boolean"), col("note", "text")});
  std::string out, reason;
  ASSERT_TRUE(enc.encode(R"({"name":"a\tb\\c\nd","doc":{"x": [1, 2]},"flag":true,"note":null})", out, reason));
  EXPECT_EQ(out, "a\\tb\\\\c\\nd\t{\"x\":[1,2]}\tt\t\\N\n");
}

}  // namespace
}  // namespace pgsink
