#include "iso_time.h"

#include <gtest/gtest.h>

namespace pgsink {
namespace {

int64_t utc(std::string_view s) {
  auto t = parse_iso_time(s);
  EXPECT_TRUE(t.has_value()) << s;
  return t ? t->utc_micros() : 0;
}

TEST(IsoTime, DaysFromCivilAgreesWithKnownDates) {
  EXPECT_EQ(days_from_civil(1970, 1, 1), 0);
  EXPECT_EQ(days_from_civil(2000, 1, 1), kPgEpochUnixDays);
  EXPECT_EQ(days_from_civil(2000, 3, 1), kPgEpochUnixDays + 31 + 29);
  EXPECT_EQ(days_from_civil(1969, 12, 31), -1);
  EXPECT_EQ(days_from_civil(2023, 11, 14), 19675);
}

TEST(IsoTime, Rfc3339FormsAndOffsets) {
  EXPECT_EQ(utc("2023-11-14T22:13:20Z"), 1700000000 * kMicrosPerSecond);
  EXPECT_EQ(utc("2023-11-14 22:13:20.25+00:00"), 1700000000 * kMicrosPerSecond + 250000);
  EXPECT_EQ(utc("2023-11-15T00:13:20+02:00"), 1700000000 * kMicrosPerSecond);
  EXPECT_EQ(utc("2023-11-14T17:13:20-0500"), 1700000000 * kMicrosPerSecond);
  EXPECT_EQ(utc("2023-11-15T03:43:20+05:30"), 1700000000 * kMicrosPerSecond);
  EXPECT_EQ(utc("2023-11-14T22:13"), 1699999980 * kMicrosPerSecond);
  EXPECT_EQ(utc("2023-11-14"), 1699920000 * kMicrosPerSecond);
  EXPECT_EQ(utc("1969-12-31T23:59:59.5Z"), -500000);
}

TEST(IsoTime, FractionsRoundToMicroseconds) {
  EXPECT_EQ(utc("1970-01-01T00:00:00.1234564Z"), 123456);
  EXPECT_EQ(utc("1970-01-01T00:00:00.1234565Z"), 123457);
  EXPECT_EQ(utc("1970-01-01T00:00:00.000001Z"), 1);
}

TEST(IsoTime, WallTimeKeepsTheWrittenClock) {
  auto t = parse_iso_time("2023-11-15T00:13:20+02:00");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->wall_micros, 1700007200 * kMicrosPerSecond);
  EXPECT_EQ(t->offset_seconds, 7200);
}

TEST(IsoTime, RefusesWhatIsNotADateTime) {
  for (const char* bad : {"", "now", "2023-13-01", "2023-02-29", "2023-11-14T25:00", "2023-11-14T22:61",
                          "2023-11-14T22:13:20.", "2023-11-14T22:13:20Zjunk", "23-11-14", "2023-11-14T22",
                          "0000-01-01", "2023-11-14T22:13:20+2", "1700000000"})
    EXPECT_FALSE(parse_iso_time(bad).has_value()) << bad;
  EXPECT_TRUE(parse_iso_time("2024-02-29").has_value());
}

}  // namespace
}  // namespace pgsink
