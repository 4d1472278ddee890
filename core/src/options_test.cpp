#include "sluice/options.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

TEST(ParseDuration, Units) {
  EXPECT_EQ(parse_duration("250ms"), Milliseconds(250));
  EXPECT_EQ(parse_duration("30s"), Milliseconds(30000));
  EXPECT_EQ(parse_duration("1.5s"), Milliseconds(1500));
  EXPECT_EQ(parse_duration("5m"), Milliseconds(300000));
  EXPECT_EQ(parse_duration("2h"), Milliseconds(7200000));
  EXPECT_FALSE(parse_duration("30"));
  EXPECT_FALSE(parse_duration("s"));
  EXPECT_FALSE(parse_duration("-1s"));
  EXPECT_FALSE(parse_duration("10 s"));
}

struct Cfg {
  std::string conninfo;
  int64_t rows = 0;
  std::optional<double> rate;
  Milliseconds wait{0};
};

TEST(Options, BindFillsMembersFromValues) {
  auto options = Options<Cfg>()
                     .string("conninfo", &Cfg::conninfo, "c").required().secret()
                     .integer("rows", &Cfg::rows, "r").def(10).range(1, 100)
                     .number("rate", &Cfg::rate, "x")
                     .duration("wait", &Cfg::wait, "w").def("100ms");
  ASSERT_EQ(options.specs().size(), 4u);
  EXPECT_TRUE(options.specs()[0].secret);
  EXPECT_EQ(options.specs()[1].default_value, OptionValue(int64_t{10}));
  EXPECT_EQ(options.specs()[3].default_value, OptionValue(Milliseconds(100)));
  OptionValues values{{"conninfo", std::string("db")}, {"rows", int64_t{5}}, {"rate", int64_t{3}}};
  Cfg c = options.bind(values);
  EXPECT_EQ(c.conninfo, "db");
  EXPECT_EQ(c.rows, 5);
  ASSERT_TRUE(c.rate);
  EXPECT_DOUBLE_EQ(*c.rate, 3.0);
  EXPECT_EQ(c.wait, Milliseconds(0));  // absent from values: the struct's own initial value
}

TEST(FormatOptionValue, WritesTomlLikeText) {
  EXPECT_EQ(format_option_value(Milliseconds(30000)), "\"30s\"");
  EXPECT_EQ(format_option_value(Milliseconds(250)), "\"250ms\"");
  EXPECT_EQ(format_option_value(std::vector<std::string>{"a", "b"}), "[\"a\", \"b\"]");
  EXPECT_EQ(format_option_value(0.5), "0.5");
  EXPECT_EQ(format_option_value(true), "true");
}

}  // namespace
}  // namespace sluice
