#include "run/record_batch.h"

#include <gtest/gtest.h>

#include <string>

namespace sluice {
namespace {

TEST(RecordBatch, ViewsGiveBackWhatWasCopiedIn) {
  RecordBatch batch(10, 1 << 20);
  ASSERT_TRUE(batch.add(3, 41, 1000, std::string_view("k1"), "value one"));
  ASSERT_TRUE(batch.add(5, 7, -1, std::nullopt, "two"));
  ASSERT_EQ(batch.size(), 2u);
  Message a = batch.view(0, "t"), b = batch.view(1, "t");
  EXPECT_EQ(a.topic, "t");
  EXPECT_EQ(a.partition, 3);
  EXPECT_EQ(a.offset, 41);
  EXPECT_EQ(a.timestamp_ms, 1000);
  EXPECT_TRUE(a.has_key);
  EXPECT_EQ(a.key, "k1");
  EXPECT_EQ(a.value, "value one");
  EXPECT_FALSE(b.has_key);
  EXPECT_EQ(b.value, "two");
  EXPECT_EQ(b.timestamp_ms, -1);
}

TEST(RecordBatch, NullValueAndEmptyKeyStayWhatTheyWere) {
  RecordBatch batch(10, 1 << 20);
  ASSERT_TRUE(batch.add(0, 0, 0, std::string_view(""), std::string_view()));
  Message m = batch.view(0, "t");
  EXPECT_TRUE(m.has_key);
  EXPECT_TRUE(m.key.empty());
  EXPECT_EQ(m.value.data(), nullptr);  // a tombstone, not an empty value
}

TEST(RecordBatch, HeadersKeepNamesValuesAndNulls) {
  RecordBatch batch(10, 1 << 20);
  std::pair<std::string_view, std::string_view> headers[] = {{"a", "1"}, {"b", std::string_view()}, {"c", ""}};
  ASSERT_TRUE(batch.add(0, 0, 0, std::nullopt, "v", headers));
  ASSERT_TRUE(batch.add(0, 1, 0, std::nullopt, "w"));
  std::vector<std::pair<std::string_view, std::string_view>> out;
  batch.headers(0, out);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].first, "a");
  EXPECT_EQ(out[0].second, "1");
  EXPECT_EQ(out[1].first, "b");
  EXPECT_EQ(out[1].second.data(), nullptr);
  EXPECT_EQ(out[2].first, "c");
  EXPECT_NE(out[2].second.data(), nullptr);
  batch.headers(1, out);
  EXPECT_TRUE(out.empty());
}

TEST(RecordBatch, FullAtTheRecordCount) {
  RecordBatch batch(2, 1 << 20);
  EXPECT_TRUE(batch.add(0, 0, 0, std::nullopt, "a"));
  EXPECT_FALSE(batch.full());
  EXPECT_TRUE(batch.add(0, 1, 0, std::nullopt, "b"));
  EXPECT_TRUE(batch.full());
  EXPECT_FALSE(batch.add(0, 2, 0, std::nullopt, "c"));
  EXPECT_EQ(batch.size(), 2u);
}

TEST(RecordBatch, RefusesTheRecordThatWouldPassTheByteBound) {
  const size_t per_record = RecordBatch::record_overhead() + 100;
  RecordBatch batch(1000, 3 * per_record);
  const std::string value(100, 'x');
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(batch.add(0, i, 0, std::nullopt, value));
  EXPECT_EQ(batch.bytes(), 3 * per_record);
  EXPECT_FALSE(batch.add(0, 3, 0, std::nullopt, "y"));
  EXPECT_TRUE(batch.full());
  EXPECT_EQ(batch.size(), 3u);
  // Cleared, it takes records again, and what it held is gone.
  batch.clear();
  EXPECT_FALSE(batch.full());
  EXPECT_EQ(batch.bytes(), 0u);
  ASSERT_TRUE(batch.add(1, 9, 0, std::nullopt, "z"));
  EXPECT_EQ(batch.view(0, "t").value, "z");
}

TEST(RecordBatch, TakesOneRecordLargerThanTheBoundAlone) {
  RecordBatch batch(1000, 1024);
  const std::string big(4096, 'b');
  ASSERT_TRUE(batch.add(0, 0, 0, std::nullopt, big));
  EXPECT_EQ(batch.view(0, "t").value, big);
  EXPECT_FALSE(batch.add(0, 1, 0, std::nullopt, "small"));
  batch.clear();
  ASSERT_TRUE(batch.add(0, 1, 0, std::nullopt, "small"));
  EXPECT_EQ(batch.view(0, "t").value, "small");
}

}  // namespace
}  // namespace sluice
