#include "conninfo_check.h"

#include <gtest/gtest.h>

namespace pgsink {
namespace {

bool anywhere(const sluice::OptionCheck& c, const std::string& text) {
  for (const auto& s : c.secrets) if (s == text) return true;
  for (const auto& s : c.secret_spans) if (s == text) return true;
  return false;
}

TEST(ConninfoCheck, AcceptsWhatLibpqParsesAndNamesThePassword) {
  auto kv = check_conninfo("host=127.0.0.1 dbname=app password='pa ss'");
  EXPECT_EQ(kv.problem, "");
  EXPECT_TRUE(anywhere(kv, "pa ss"));
  auto uri = check_conninfo("postgres://bob:s%40cret@127.0.0.1/app");
  EXPECT_EQ(uri.problem, "");
  EXPECT_TRUE(anywhere(uri, "s@cret"));     // as libpq decodes it
  EXPECT_TRUE(anywhere(uri, "s%40cret"));   // as written
  EXPECT_EQ(check_conninfo("appdb").problem, "");  // a database name, as connect takes it
}

TEST(ConninfoCheck, RefusesWhatLibpqCannotParseWithoutQuotingIt) {
  // Every secret fragment holds "Zq7".
  for (const std::string bad : {"host=h password=Zq7a Zq7b", "postgres://bob:Zq7se%zzcret@h/db",
                                "host=h password='Zq7unterminated", "postgresql://u:Zq7pw@[::1/db", "Zq7hots=h"}) {
    auto c = check_conninfo(bad);
    EXPECT_NE(c.problem, "") << bad;
    EXPECT_EQ(c.problem.find("Zq7"), std::string::npos) << c.problem;
    EXPECT_EQ(c.problem.find("%zz"), std::string::npos) << c.problem;
  }
  EXPECT_TRUE(anywhere(check_conninfo("host=h password=Zq7a Zq7b"), "Zq7a Zq7b"));
  EXPECT_TRUE(anywhere(check_conninfo("postgres://bob:Zq7se%zzcret@h/db"), "Zq7se%zzcret"));
}

}  // namespace
}  // namespace pgsink
