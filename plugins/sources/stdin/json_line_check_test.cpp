#include "json_line_check.h"

#include <gtest/gtest.h>

namespace stdin_source {
namespace {

TEST(JsonLineChecker, AcceptsJsonTexts) {
  JsonLineChecker checker;
  for (std::string_view ok : {R"({"a":1,"b":[true,null,"é"]})", "42", R"("text")", "[]",
                              R"({"big":123456789012345678901234567890})", "123456789012345678901234567890",
                              R"({"tiny":1e-999,"huge":-1.5E+999})"})
    EXPECT_EQ(checker.check(ok).reason, "") << ok;
}

TEST(JsonLineChecker, ReportsWhyAndWhere) {
  JsonLineChecker checker;
  for (std::string_view bad : {R"({"a":1,})", "{\"a\":tru}", "not json", R"({"a":1} x)", R"({"a":"x)", "01",
                               R"({"n":1.})", "[1,2", R"({"a":-})"}) {
    LineProblem p = checker.check(bad);
    EXPECT_NE(p.reason, "") << bad;
  }
  LineProblem p = checker.check(R"({"a":1,"b":tru})");
  EXPECT_NE(p.reason, "");
  EXPECT_GT(p.column, 1u);
}

TEST(JsonLineChecker, InvalidUtf8IsReportedAtItsByte) {
  JsonLineChecker checker;
  LineProblem p = checker.check("{\"a\":\"\xff\"}");
  EXPECT_EQ(p.reason, "invalid UTF-8");
  EXPECT_EQ(p.column, 7u);
  EXPECT_NE(checker.check("{\"a\":\"\xed\xa0\x80\"}").reason, "");  // a UTF-16 surrogate
  EXPECT_NE(checker.check("{\"a\":\"\xc3\"}").reason, "");          // cut short
}

TEST(EscapedExcerpt, KeepsPrintableAsciiAndEscapesTheRest) {
  EXPECT_EQ(escaped_excerpt("ab\x01\xff\\"), "ab\\x01\\xff\\x5c");
  EXPECT_EQ(escaped_excerpt(std::string(100, 'z'), 10), std::string(10, 'z') + "...");
}

}  // namespace
}  // namespace stdin_source
