#include "row_encoder.h"

#include <gtest/gtest.h>

#include <cstring>

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
  RowEncoder enc(routes(), CopyFormat::text);
  std::string out, reason;
  ASSERT_TRUE(enc.encode(R"({"seq":9007199254740993,"user_id":42,"ts":1700000000.25,"coordinates":{"lat":-12.5}})",
                         out, reason)) << reason;
  EXPECT_EQ(out, "9007199254740993\t42\t2023-11-14 22:13:20.250000+00\t-12.5\n");
}

TEST(RowEncoder, RejectsWithReasonsAndLeavesOutputUntouched) {
  RowEncoder enc(routes(), CopyFormat::text);
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
  RowEncoder enc({col("name", "text"), col("doc", "jsonb"), col("flag", "boolean"), col("note", "text")},
                 CopyFormat::text);
  std::string out, reason;
  ASSERT_TRUE(enc.encode(R"({"name":"a\tb\\c\nd","doc":{"x": [1, 2]},"flag":true,"note":null})", out, reason));
  EXPECT_EQ(out, "a\\tb\\\\c\\nd\t{\"x\":[1,2]}\tt\t\\N\n");
}

// Found by tests/fuzz/row_encoder_fuzz: PostgreSQL text cannot hold NUL, so a
// row carrying one would fail the COPY of its whole batch.
TEST(RowEncoder, NulInATextValueRejectsTheRecordInBothFormats) {
  for (CopyFormat format : {CopyFormat::text, CopyFormat::binary}) {
    RowEncoder enc({col("name", "text"), col("doc", "jsonb")}, format);
    std::string out, reason;
    EXPECT_FALSE(enc.encode(R"({"name":"nul\u0000byte","doc":1})", out, reason));
    EXPECT_EQ(reason, "column name (text): field `name` holds a NUL character (\\u0000), which PostgreSQL cannot "
                      "store in text");
    EXPECT_EQ(out, "");
    // A json or jsonb column is given the escape, which PostgreSQL judges.
    EXPECT_TRUE(enc.encode(R"({"name":"ok","doc":"\u0000"})", out, reason)) << reason;
    if (format == CopyFormat::text) {
      EXPECT_EQ(out, "ok\t\"\\\\u0000\"\n");
    }
  }
}

// Reads binary COPY fields back: each is a 4-byte big-endian length (-1 for
// NULL) and that many bytes.
struct BinaryRow {
  explicit BinaryRow(const std::string& data) : d(data) {}
  uint64_t be(size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v = v << 8 | static_cast<unsigned char>(d[at++]);
    return v;
  }
  std::string field() {
    auto len = static_cast<int32_t>(be(4));
    if (len < 0) return "NULL";
    std::string f = d.substr(at, static_cast<size_t>(len));
    at += static_cast<size_t>(len);
    return f;
  }
  const std::string& d;
  size_t at = 0;
};

uint64_t be_value(const std::string& bytes) {
  uint64_t v = 0;
  for (unsigned char c : bytes) v = v << 8 | c;
  return v;
}

TEST(RowEncoder, BinaryRowCarriesTypedValues) {
  ASSERT_EQ(preferred_copy_format(routes()), CopyFormat::binary);
  RowEncoder enc(routes(), CopyFormat::binary);
  std::string out, reason;
  ASSERT_TRUE(enc.encode(R"({"seq":-2,"user_id":42,"ts":1700000000.25,"coordinates":{"lat":-12.5}})", out, reason))
      << reason;
  BinaryRow row(out);
  EXPECT_EQ(row.be(2), 4u);
  EXPECT_EQ(static_cast<int64_t>(be_value(row.field())), -2);
  EXPECT_EQ(be_value(row.field()), 42u);
  // Microseconds since 2000-01-01 UTC.
  EXPECT_EQ(static_cast<int64_t>(be_value(row.field())), (1700000000LL - 946684800LL) * 1000000 + 250000);
  double lat;
  uint64_t bits = be_value(row.field());
  std::memcpy(&lat, &bits, sizeof lat);
  EXPECT_EQ(lat, -12.5);
  EXPECT_EQ(row.at, out.size());
}

TEST(RowEncoder, BinaryTextJsonbBooleanNullAndDate) {
  RowEncoder enc({col("name", "text"), col("doc", "jsonb"), col("flag", "boolean"), col("note", "text"),
                  col("day", "date")},
                 CopyFormat::binary);
  std::string out, reason;
  ASSERT_TRUE(enc.encode(R"({"name":"a\tb","doc":{"x": [1]},"flag":true,"note":null,"day":"2000-01-03T23:00:00-05:00"})",
                         out, reason))
      << reason;
  BinaryRow row(out);
  EXPECT_EQ(row.be(2), 5u);
  EXPECT_EQ(row.field(), "a\tb");
  EXPECT_EQ(row.field(), std::string("\1{\"x\":[1]}"));
  EXPECT_EQ(row.field(), std::string("\1"));
  EXPECT_EQ(row.field(), "NULL");
  EXPECT_EQ(be_value(row.field()), 2u);  // the written date, days since 2000-01-01
}

TEST(RowEncoder, TimestampStringsAreParsedTheSameInBothFormats) {
  std::vector<Column> cols{col("at", "timestamp with time zone"), col("wall", "timestamp without time zone")};
  RowEncoder text(cols, CopyFormat::text), binary(cols, CopyFormat::binary);
  std::string t, b, reason;
  const char* record = R"({"at":"2023-11-15T00:13:20+02:00","wall":"2023-11-15T00:13:20+02:00"})";
  ASSERT_TRUE(text.encode(record, t, reason)) << reason;
  ASSERT_TRUE(binary.encode(record, b, reason)) << reason;
  EXPECT_EQ(t, "2023-11-14 22:13:20.000000+00\t2023-11-15 00:13:20.000000+00\n");
  BinaryRow row(b);
  row.be(2);
  EXPECT_EQ(static_cast<int64_t>(be_value(row.field())), (1700000000LL - 946684800LL) * 1000000);
  EXPECT_EQ(static_cast<int64_t>(be_value(row.field())), (1700007200LL - 946684800LL) * 1000000);
  EXPECT_FALSE(binary.encode(R"({"at":"yesterday","wall":1})", b, reason));
  EXPECT_NE(reason.find("`yesterday` is not an ISO 8601 date/time"), std::string::npos) << reason;
}

TEST(RowEncoder, NumericAndUnknownTypesKeepTextFormat) {
  EXPECT_EQ(preferred_copy_format({col("amount", "numeric(10,2)")}), CopyFormat::text);
  EXPECT_EQ(preferred_copy_format({col("id", "uuid")}), CopyFormat::text);
  EXPECT_EQ(preferred_copy_format({col("tags", "text[]")}), CopyFormat::text);
  EXPECT_EQ(preferred_copy_format({col("seen", "timestamp with time zone[]")}), CopyFormat::text);
  EXPECT_EQ(preferred_copy_format({col("doc", "json"), col("n", "real"), col("d", "date")}), CopyFormat::binary);
}

}  // namespace
}  // namespace pgsink

namespace pgsink {
namespace {

TEST(RowEncoder, WideNumbersReachJsonbAndNumericAsWritten) {
  RowEncoder enc({col("doc", "jsonb"), col("amount", "numeric"), col("raw", "json"), col("name", "text")},
                 CopyFormat::text);
  std::string out, reason;
  ASSERT_TRUE(enc.encode(R"({"doc":{"big":123456789012345678901234567890,"tiny":1e-400,"s":"a\"b","n":[1.5,-2]},)"
                         R"("amount":1e400,"raw":[-99999999999999999999],"name":"x"})",
                         out, reason))
      << reason;
  EXPECT_EQ(out, "{\"big\":123456789012345678901234567890,\"tiny\":1e-400,\"s\":\"a\\\\\"b\",\"n\":[1.5,-2]}\t1e400\t"
                 "[-99999999999999999999]\tx\n");
  // The next record, without wide numbers, takes the usual path again.
  out.clear();
  ASSERT_TRUE(enc.encode(R"({"doc":{"s":"plain"},"amount":1,"raw":null,"name":"y"})", out, reason)) << reason;
  EXPECT_EQ(out, "{\"s\":\"plain\"}\t1\t\\N\ty\n");
}

TEST(RowEncoder, WideNumbersForFixedWidthColumnsAreOutOfRange) {
  RowEncoder enc({col("n", "bigint"), col("d", "double precision")}, CopyFormat::binary);
  std::string out, reason;
  EXPECT_FALSE(enc.encode(R"({"n":123456789012345678901234567890,"d":1})", out, reason));
  EXPECT_EQ(reason, "column n (bigint): 123456789012345678901234567890 is out of range");
  EXPECT_FALSE(enc.encode(R"({"n":-99999999999999999999,"d":1})", out, reason));
  EXPECT_EQ(reason, "column n (bigint): -99999999999999999999 is out of range");
  EXPECT_FALSE(enc.encode(R"({"n":1e30,"d":1})", out, reason));
  EXPECT_EQ(reason, "column n (bigint): 1e+30 is out of range");
  EXPECT_FALSE(enc.encode(R"({"n":1,"d":1e400})", out, reason));
  EXPECT_EQ(reason, "column d (double precision): 1e400 is out of range");
  ASSERT_TRUE(enc.encode(R"({"n":1,"d":1e-400,"other":1e400})", out, reason)) << reason;
  // Still invalid JSON when it is: a wide number does not excuse the rest.
  EXPECT_FALSE(enc.encode(R"({"n":1e400,"d":01})", out, reason));
  EXPECT_NE(reason.find("not valid JSON"), std::string::npos) << reason;
  EXPECT_FALSE(enc.encode(R"({"n":1e400,"d":1)", out, reason));
  EXPECT_NE(reason.find("not valid JSON"), std::string::npos) << reason;
}

TEST(RowEncoder, DuplicateKeysTakeTheLastValue) {
  RowEncoder enc({col("id", "bigint"), col("v", "text", "inner.v")}, CopyFormat::text);
  std::string out, reason;
  ASSERT_TRUE(enc.encode(R"({"id":1,"inner":{"v":"a","v":"b"},"id":2})", out, reason)) << reason;
  EXPECT_EQ(out, "2\tb\n");
}

TEST(RowEncoder, NulInTextAndCutExcerptsAreRejectedWithTheColumn) {
  RowEncoder enc({col("name", "text"), col("at", "timestamp with time zone")}, CopyFormat::binary);
  std::string out, reason;
  EXPECT_FALSE(enc.encode(R"({"name":"a\u0000b","at":0})", out, reason));
  EXPECT_EQ(reason, "column name (text): field `name` holds a NUL character (\\u0000), which PostgreSQL cannot "
                    "store in text");
  std::string long_time;
  for (int i = 0; i < 40; ++i) long_time += "\xC3\xA9";
  EXPECT_FALSE(enc.encode(R"({"name":"x","at":")" + long_time + "\"}", out, reason));
  // 30 whole characters (60 bytes), never half of the 31st.
  EXPECT_NE(reason.find("`" + long_time.substr(0, 60) + "...`"), std::string::npos) << reason;
}

}  // namespace
}  // namespace pgsink

namespace pgsink {
namespace {

// An event table: the whole record in a jsonb column ("."), plus fields of it.
TEST(RowEncoder, DotMapsTheWholeRecordBesideItsFields) {
  for (CopyFormat format : {CopyFormat::text, CopyFormat::binary}) {
    RowEncoder enc({col("payload", "jsonb", "."), col("event_type", "text", "type")}, format);
    std::string out, reason;
    ASSERT_TRUE(enc.encode(R"({"type": "signup", "n": 123456789012345678901234567890})", out, reason)) << reason;
    const std::string doc = R"({"type":"signup","n":123456789012345678901234567890})";
    if (format == CopyFormat::text) {
      EXPECT_EQ(out, doc + "\tsignup\n");
    } else {
      EXPECT_NE(out.find("\1" + doc), std::string::npos);  // jsonb's binary form: version byte, then the text
    }
    EXPECT_FALSE(enc.encode(R"({"n":1})", out, reason));
    EXPECT_EQ(reason, "missing field `type` (column event_type)");
  }
}

}  // namespace
}  // namespace pgsink
