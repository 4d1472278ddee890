#include "json_numbers.h"

#include <gtest/gtest.h>

namespace pgsink {
namespace {

TEST(JsonNumbers, OnlyNumbersAsJsonWritesThem) {
  for (const char* good : {"0", "-0", "12", "-12.5", "1e400", "1E+5", "2.5e-3", "123456789012345678901234567890"})
    EXPECT_TRUE(is_json_number(good)) << good;
  for (const char* bad : {"", "-", "01", "1.", ".5", "1e", "1e+", "+1", "1.2.3", "--1", "0x10"})
    EXPECT_FALSE(is_json_number(bad)) << bad;
}

TEST(JsonNumbers, WideNumbersBecomeTaggedStringsAndStringValuesAreTagged) {
  std::string out;
  ASSERT_TRUE(tag_wide_numbers(R"({"a\"1e400": "x\\\"1e400", "n" : 1e400, "m":[12, -99999999999999999999, 1.5]})",
                               out));
  EXPECT_EQ(out, R"({"a\"1e400": "sx\\\"1e400", "n" : "n1e400", "m":[12, "n-99999999999999999999", 1.5]})");
  // Nothing wide: nothing to do (the record's fault lies elsewhere).
  EXPECT_FALSE(tag_wide_numbers(R"({"a": 01, "b": 18446744073709551615})", out));
  // A string that never ends cannot be scanned.
  EXPECT_FALSE(tag_wide_numbers(R"({"a": 1e400, "b": "open)", out));
}

TEST(JsonNumbers, UntaggedJsonIsTheRecordAgain) {
  std::string tagged, out;
  ASSERT_TRUE(tag_wide_numbers(R"({"s":"line\nbreak \u0001","n":1e400,"o":{"k":[true,null,-2,0.5]}})", tagged));
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_FALSE(parser.parse(tagged).get(doc));
  append_untagged_json(doc, out);
  EXPECT_EQ(out, R"({"s":"line\u000abreak \u0001","n":1e400,"o":{"k":[true,null,-2,0.5]}})");
}

}  // namespace
}  // namespace pgsink
