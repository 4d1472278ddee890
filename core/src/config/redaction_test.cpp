#include "config/redaction.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

TEST(Redaction, MasksSecretsLongestFirst) {
  EXPECT_EQ(redact("a hunter2 b hunter2x", std::set<std::string>{"hunter2", "hunter2x"}), "a *** b ***");
}

TEST(Redaction, MasksThePasswordOfEveryUri) {
  EXPECT_EQ(redact("cannot parse postgres://bob:pa55@db:5432/x?a=b now", Secrets{}),
            "cannot parse postgres://bob:***@db:5432/x?a=b now");
  EXPECT_EQ(redact("\"https://u:p@h\" and kafka://h:9092", Secrets{}), "\"https://u:***@h\" and kafka://h:9092");
}

TEST(Redaction, MasksQuotedFragmentsOfSpansOnly) {
  Secrets s{{"host=db password=abc def"}, {"abc def"}};
  EXPECT_EQ(redact("missing \"=\" after \"def\" in connection info string", s),
            "missing \"=\" after \"***\" in connection info string");
  EXPECT_EQ(redact("could not translate host name \"db.example\" to address", s),
            "could not translate host name \"db.example\" to address");
}

TEST(Redaction, ProcessSecretsApplyToTheLog) {
  set_process_secrets(Secrets{{"t0ps3cret"}, {}});
  EXPECT_EQ(redact_process("value t0ps3cret"), "value ***");
  set_process_secrets({});
}

}  // namespace
}  // namespace sluice
