#include "identifiers.h"

#include <gtest/gtest.h>

namespace pgsink {
namespace {

TEST(Identifiers, QuotesEveryNameSoInjectionStaysAName) {
  EXPECT_EQ(quote_ident("routes"), "\"routes\"");
  EXPECT_EQ(quote_ident("routes\"; drop table x; --"), "\"routes\"\"; drop table x; --\"");
  EXPECT_EQ(quote_qualified("public.routes"), "\"public\".\"routes\"");
  EXPECT_EQ(quote_qualified("routes\"; drop table x; --"), "\"routes\"\"; drop table x; --\"");
  EXPECT_EQ(quote_qualified("s.a\"b"), "\"s\".\"a\"\"b\"");
}

}  // namespace
}  // namespace pgsink
