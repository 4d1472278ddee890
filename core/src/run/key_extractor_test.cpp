#include "run/key_extractor.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

TEST(KeyExtractor, StringsUnquotedNumbersAsWritten) {
  KeyExtractor url("url"), user("user_id");
  EXPECT_EQ(url.extract(R"({"url":"https://a/b","x":1})"), "https://a/b");
  EXPECT_EQ(user.extract(R"({"seq":1,"user_id":123456789012,"ts":1.5})"), "123456789012");
  EXPECT_EQ(user.extract(R"({"user_id": 7 })"), "7");
}

TEST(KeyExtractor, MissingFieldNullOrNotJsonGiveNoKey) {
  KeyExtractor user("user_id");
  EXPECT_EQ(user.extract(R"({"seq":1})"), std::nullopt);
  EXPECT_EQ(user.extract(R"({"user_id":null})"), std::nullopt);
  EXPECT_EQ(user.extract("seq=1 <not json>"), std::nullopt);
  EXPECT_EQ(user.extract(R"({"user_id":"u1"})"), "u1");  // usable again after failures
}

// Found by `sluice produce --key-field id`: an object key was cut to "{",
// and a field given twice keyed by its first value while the sink stores the last.
TEST(KeyExtractor, ObjectsAndArraysWholeTheLastOfTwiceGivenFields) {
  KeyExtractor id("id");
  EXPECT_EQ(id.extract(R"({"id":{"a":1, "b":[2]}})"), R"({"a":1, "b":[2]})");
  EXPECT_EQ(id.extract(R"({"id":[1, 2] ,"x":0})"), "[1, 2]");
  EXPECT_EQ(id.extract(R"({"id":"first","x":{"id":"nested"},"id":"last"})"), "last");
  EXPECT_EQ(id.extract(R"({"id":"first","id":null})"), std::nullopt);
  EXPECT_EQ(id.extract("3"), std::nullopt);
  EXPECT_EQ(id.extract(R"(["id"])"), std::nullopt);
}

}  // namespace
}  // namespace sluice
