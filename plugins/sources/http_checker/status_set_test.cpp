#include "status_set.h"

#include <gtest/gtest.h>

using http_checker::StatusSet;

TEST(StatusSet, CodesAndRanges) {
  std::string error;
  auto set = StatusSet::parse("200-299, 301,404", error);
  ASSERT_TRUE(set) << error;
  EXPECT_TRUE(set->contains(200));
  EXPECT_TRUE(set->contains(299));
  EXPECT_TRUE(set->contains(301));
  EXPECT_TRUE(set->contains(404));
  EXPECT_FALSE(set->contains(300));
  EXPECT_FALSE(set->contains(500));
}

TEST(StatusSet, RejectsWhatIsNotAStatus) {
  std::string error;
  EXPECT_FALSE(StatusSet::parse("2xx", error));
  EXPECT_EQ(error, "`2xx` is not a status code or range such as 200 or 200-299 (codes 100..599)");
  EXPECT_FALSE(StatusSet::parse("299-200", error));
  EXPECT_FALSE(StatusSet::parse("700", error));
  EXPECT_FALSE(StatusSet::parse("", error));
}
