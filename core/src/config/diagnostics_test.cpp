#include "config/diagnostics.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

TEST(Diagnostics, FormatsFileLineColumnKeyAndHint) {
  Diagnostics d;
  d.error({"p.toml", 3, 5}, "sinks[0].tabel", "unknown key", "did you mean `table`?");
  d.warning({"p.toml", 9, 1}, "out", "no source produces `x`");
  EXPECT_TRUE(d.has_errors());
  EXPECT_EQ(d.format(),
            "p.toml:3:5: error: sinks[0].tabel: unknown key (did you mean `table`?)\n"
            "p.toml:9:1: warning: out: no source produces `x`\n");
}

TEST(Diagnostics, WarningsAloneAreNotErrors) {
  Diagnostics d;
  d.warning({"p.toml", 1, 1}, "", "w");
  EXPECT_FALSE(d.has_errors());
}

TEST(NearestWord, FindsTyposButNotStrangers) {
  std::vector<std::string> keys = {"table", "topic", "conninfo", "batch_max_rows"};
  EXPECT_EQ(nearest_word("tabel", keys), "table");
  EXPECT_EQ(nearest_word("batch_max_row", keys), "batch_max_rows");
  EXPECT_EQ(nearest_word("zzzzzz", keys), "");
}

}  // namespace
}  // namespace sluice
