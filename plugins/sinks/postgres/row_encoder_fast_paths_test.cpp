// The encoder's fast paths (columns found in one pass over a record's
// fields; a binary row of numbers written straight into the COPY data)
// against the general ones (the path-by-path search, the conversions of
// append_value): the same rows, bytes and reasons for every record, good or bad.
#include <gtest/gtest.h>

#include "row_encoder.h"

namespace pgsink {
namespace {

Column col(const std::string& name, const std::string& type) {
  Column c;
  c.name = name;
  c.type = type;
  c.kind = column_kind(type);
  c.field_path = name;
  return c;
}

std::vector<Column> numbers() {
  return {col("seq", "bigint"), col("user_id", "integer"), col("small", "smallint"), col("ts", "double precision"),
          col("f", "real")};
}

std::vector<Column> mixed() {
  return {col("name", "text"), col("at", "timestamp with time zone"), col("doc", "jsonb"), col("ok", "boolean"),
          col("n", "bigint")};
}

const char* const kRecords[] = {
    R"({"seq":1,"user_id":2,"small":3,"ts":1700000000.25,"f":1.5})",
    R"({"f":1.5,"ts":-0.0,"small":-3,"user_id":-2,"seq":-1})",
    R"( {"seq":-0,"user_id":0,"small":0,"ts":-0,"f":0} )",
    R"({"seq":9223372036854775807,"user_id":2147483647,"small":32767,"ts":1e308,"f":3.4e38})",
    R"({"seq":-9223372036854775808,"user_id":-2147483648,"small":-32768,"ts":-1e-320,"f":1e-50})",
    R"({"seq":null,"user_id":null,"small":null,"ts":null,"f":null})",
    R"({"seq":1,"seq":2,"user_id":2,"small":3,"ts":4,"f":5})",
    R"({"s\u0065q":1,"user_id":2,"small":3,"ts":4,"f":5})",
    // Each of these the tree path converts or refuses, with its reason.
    R"({"seq":9223372036854775808,"user_id":2,"small":3,"ts":4,"f":5})",
    R"({"seq":123456789012345678901234567890,"user_id":2,"small":3,"ts":4,"f":5})",
    R"({"seq":1,"user_id":2147483648,"small":3,"ts":4,"f":5})",
    R"({"seq":1,"user_id":2,"small":32768,"ts":4,"f":5})",
    R"({"seq":2.0,"user_id":1e3,"small":3,"ts":4,"f":5})",
    R"({"seq":2.5,"user_id":2,"small":3,"ts":4,"f":5})",
    R"({"seq":1,"user_id":2,"small":3,"ts":4,"f":3.5e38})",
    R"({"seq":1,"user_id":2,"small":3,"ts":4,"f":-3.5e38})",
    R"({"seq":1,"user_id":2,"small":3,"ts":9007199254740993,"f":16777217})",
    R"({"seq":1,"user_id":-2147483649,"small":-32769,"ts":4,"f":5})",
    R"({"seq":1,"user_id":2,"small":3,"ts":18446744073709551615,"f":5})",
    R"({"seq":1,"user_id":2,"small":3,"ts":4,"f":0.1})",
    R"({"seq":1,"user_id":2,"small":3,"ts":1e400,"f":5})",
    R"({"seq":1,"user_id":2,"small":3,"ts":"4","f":5})",
    R"({"seq":1,"user_id":2,"small":3,"ts":true,"f":5})",
    R"({"seq":1,"user_id":2,"small":3,"ts":[4],"f":5})",
    R"({"seq":1,"user_id":2,"small":3,"ts":{"v":4},"f":5})",
    R"({"seq":1,"user_id":2,"small":3,"ts":4})",
    R"({"seq":1,"user_id":2,"small":3,"ts":4,"f":5,"extra":"x"})",
    R"({"seq":1,"user_id":2,"small":3,"ts":4,"f":5,"extra":tru})",
    R"({"seq":1,"user_id":2,"small":3,"ts":4,"f":5} {})",
    R"({"seq":1,"user_id":2,"small":3,"ts":4,"f":5}])",
    R"({"seq":1,"user_id":2,"small":3,"ts":4,"f":5)",
    R"({"seq":1,"user_id":2,"small":3,"ts":4,,"f":5})",
    R"({"seq":1 "user_id":2,"small":3,"ts":4,"f":5})",
    R"({"seq":1,"user_id":2,"small":3,"ts":4,"f":5,})",
    R"({"seq":01,"user_id":2,"small":3,"ts":4,"f":5})",
    R"({"seq":1,"user_id":2,"small":3,"ts":4.,"f":5})",
    R"({"seq":nul,"user_id":2,"small":3,"ts":4,"f":5})",
    R"({"seq":nullx,"user_id":2,"small":3,"ts":4,"f":5})",
    R"({"seq":1x,"user_id":2,"small":3,"ts":4,"f":5})",
    "{\"seq\":1,\"user_id\":2,\"small\":3,\"ts\":4,\"f\":5,\"\xff\":1}",
    R"([{"seq":1}])",
    R"(42)",
    "",
};

const char* const kMixedRecords[] = {
    R"({"name":"a\tb","at":"2024-01-02T03:04:05Z","doc":{"x":[1,2]},"ok":true,"n":7})",
    R"({"n":7,"ok":false,"doc":null,"at":1700000000.5,"name":"z"})",
    R"({"name":"a","at":"2024-01-02","doc":1,"ok":true,"n":7,"name":"b","extra":{"deep":[null]}})",
    R"({"name":"a","at":"yesterday","doc":1,"ok":true,"n":7})",
    R"({"name":"a\u0000","at":1,"doc":1,"ok":true,"n":7})",
    R"({"name":"a","at":1,"doc":123456789012345678901234567890,"ok":true,"n":7})",
    R"({"name":"a","at":1,"doc":1,"ok":1,"n":7})",
    R"({"name":"a","at":1,"doc":1,"ok":true})",
    R"({"at":1,"doc":1,"ok":"x"})",
};

void expect_same(const std::vector<Column>& columns, const char* const* records, size_t count) {
  for (CopyFormat format : {CopyFormat::binary, CopyFormat::text}) {
    RowEncoder fast(columns, format), tree(columns, format, false);
    for (size_t r = 0; r < count; ++r) {
      const char* record = records[r];
      std::string fast_out = "before", tree_out = "before", fast_reason, tree_reason;
      const bool fast_ok = fast.encode(record, fast_out, fast_reason);
      const bool tree_ok = tree.encode(record, tree_out, tree_reason);
      EXPECT_EQ(fast_ok, tree_ok) << record;
      EXPECT_EQ(fast_out, tree_out) << record;
      EXPECT_EQ(fast_reason, tree_reason) << record;
    }
  }
}

TEST(RowEncoderFastPaths, GiveTheGeneralPathsRowsAndReasons) {
  expect_same(numbers(), kRecords, std::size(kRecords));
  expect_same(mixed(), kMixedRecords, std::size(kMixedRecords));
}

TEST(RowEncoderFastPaths, ABadRecordDoesNotSpoilTheNext) {
  RowEncoder enc(numbers(), CopyFormat::text);
  std::string out, reason;
  EXPECT_FALSE(enc.encode(R"({"seq":1,"user_id":2,"small":3,"ts":4})", out, reason));
  EXPECT_EQ(reason, "missing field `f` (column f)");
  ASSERT_TRUE(enc.encode(R"({"seq":1,"user_id":2,"small":3,"ts":4,"f":5})", out, reason)) << reason;
  EXPECT_EQ(out, "1\t2\t3\t4\t5\n");
}

}  // namespace
}  // namespace pgsink
