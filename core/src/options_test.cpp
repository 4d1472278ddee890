#include "sluice/options.h"

#include <gtest/gtest.h>

#include <cstdlib>

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
  EXPECT_EQ(c.wait, Milliseconds(100));  // absent from values: its default, from the table
}

TEST(FormatOptionValue, WritesTomlLikeText) {
  EXPECT_EQ(format_option_value(Milliseconds(30000)), "\"30s\"");
  EXPECT_EQ(format_option_value(Milliseconds(250)), "\"250ms\"");
  EXPECT_EQ(format_option_value(std::vector<std::string>{"a", "b"}), "[\"a\", \"b\"]");
  EXPECT_EQ(format_option_value(0.5), "0.5");
  EXPECT_EQ(format_option_value(true), "true");
}

TEST(ParseSize, UnitsSpacesAndBytes) {
  EXPECT_EQ(parse_size("64MB"), int64_t{64} << 20);
  EXPECT_EQ(parse_size("1 MiB"), int64_t{1} << 20);
  EXPECT_EQ(parse_size("512KB"), int64_t{512} << 10);
  EXPECT_EQ(parse_size("2GiB"), int64_t{2} << 30);
  EXPECT_EQ(parse_size("100"), int64_t{100});
  EXPECT_EQ(parse_size("100B"), int64_t{100});
  EXPECT_FALSE(parse_size("64XB"));
  EXPECT_FALSE(parse_size("MB"));
  EXPECT_FALSE(parse_size("-1MB"));
  EXPECT_FALSE(parse_size("64  MB"));
  EXPECT_FALSE(parse_size("99999999999TB"));  // overflows
}

struct Inner {
  std::string url;
  std::optional<std::string> token;
  std::optional<Milliseconds> every;
};
struct Outer {
  int64_t buffer = 0;
  std::vector<Inner> items;
  Inner main;
  std::string mode;
  std::vector<std::string> keys;
};

Options<Outer> nested_options() {
  auto inner = Options<Inner>()
                   .string("url", &Inner::url, "u").required()
                   .string("token", &Inner::token, "t").secret()
                   .duration("every", &Inner::every, "e")
                   .check([](const Inner& i) -> OptionProblem {
                     if (i.every && i.url.empty()) return {"every", "needs a url"};
                     return {};
                   });
  return Options<Outer>()
      .size("buffer", &Outer::buffer, "b").def("1MB").range(1024, 1 << 30)
      .table_list("items", &Outer::items, inner, "i")
      .table("main", &Outer::main, inner, "m")
      .string("mode", &Outer::mode, "m").def("insert")
      .string_list("keys", &Outer::keys, "k")
      .check([](const Outer& o) -> OptionProblem {
        if (o.mode == "upsert" && o.keys.empty()) return {"mode", "mode = \"upsert\" needs keys"};
        return {};
      });
}

DocumentValues validate(const std::string& text) {
  auto options = nested_options();
  return validate_toml_document(options.specs(), options.checks(), text, "f.toml", "");
}

std::string all(const DocumentValues& d) {
  std::string out;
  for (const auto& e : d.errors) out += e + "\n";
  return out;
}

TEST(Options, SizesAreBytesWithUnitsAndRanges) {
  auto d = validate("buffer = \"64MB\"\n");
  ASSERT_TRUE(d.errors.empty()) << all(d);
  EXPECT_EQ(nested_options().bind(d.values).buffer, int64_t{64} << 20);
  EXPECT_EQ(nested_options().bind(validate("").values).buffer, int64_t{1} << 20);  // the default
  EXPECT_EQ(nested_options().bind(validate("buffer = 4096\n").values).buffer, 4096);
  d = validate("buffer = \"64XB\"\n");
  ASSERT_EQ(d.errors.size(), 1u);
  EXPECT_EQ(d.errors[0].rfind("f.toml:1:10: error: buffer: `64XB` is not a size such as", 0), 0u) << all(d);
  EXPECT_NE(validate("buffer = \"2GB\"\n").errors.at(0).find("buffer: must be at most 1GB"), std::string::npos);
  EXPECT_NE(validate("buffer = 10\n").errors.at(0).find("f.toml:1:10: error: buffer: must be at least 1KB"),
            std::string::npos);
}

TEST(Options, NestedTablesAreValidatedAndBoundAtTheirOwnKeys) {
  auto d = validate(
      "items = [{ url = \"a\", every = \"5s\" }, { url = \"b\" }]\n"
      "[main]\nurl = \"m\"\n");
  ASSERT_TRUE(d.errors.empty()) << all(d);
  Outer o = nested_options().bind(d.values);
  ASSERT_EQ(o.items.size(), 2u);
  EXPECT_EQ(o.items[0].url, "a");
  EXPECT_EQ(o.items[0].every, Milliseconds(5000));
  EXPECT_FALSE(o.items[1].every);
  EXPECT_EQ(o.main.url, "m");
  // The same through array-of-tables syntax.
  d = validate("[[items]]\nurl = \"a\"\n[[items]]\nurl = \"b\"\n");
  ASSERT_TRUE(d.errors.empty()) << all(d);
  EXPECT_EQ(nested_options().bind(d.values).items.at(1).url, "b");
}

TEST(Options, InnerProblemsNameTheInnerKeyLineAndColumn) {
  auto d = validate(
      "[[items]]\nurl = \"a\"\n"
      "[[items]]\nurl = \"b\"\nevry = \"1s\"\n"
      "[[items]]\nevery = \"soon\"\n"
      "[main]\nurl = 3\n");
  std::string text = all(d);
  EXPECT_NE(text.find("f.toml:5:1: error: items[1].evry: unknown key (did you mean `every`?)"), std::string::npos) << text;
  EXPECT_NE(text.find("f.toml:6:1: error: items[2].url: missing required option"), std::string::npos) << text;
  EXPECT_NE(text.find("f.toml:7:9: error: items[2].every: `soon` is not a duration"), std::string::npos) << text;
  EXPECT_NE(text.find("f.toml:9:7: error: main.url: expected a string, found an integer"), std::string::npos) << text;
  EXPECT_NE(validate("items = [\"x\"]\n").errors.at(0).find("f.toml:1:10: error: items[0]: expected a table"),
            std::string::npos);
  EXPECT_NE(validate("items = 1\n").errors.at(0).find("items: expected an array of tables"), std::string::npos);
}

TEST(Options, SecretsInsideNestedTablesAreCollected) {
  ::setenv("SLUICE_TEST_NESTED_TOKEN", "hunter2-nested", 1);
  auto d = validate("[[items]]\nurl = \"a\"\ntoken = \"${SLUICE_TEST_NESTED_TOKEN}\"\n");
  ASSERT_TRUE(d.errors.empty()) << all(d);
  EXPECT_EQ(d.secrets, std::vector<std::string>{"hunter2-nested"});
  EXPECT_EQ(nested_options().bind(d.values).items.at(0).token, "hunter2-nested");
}

TEST(Options, CrossFieldChecksReportAtTheNamedKey) {
  auto d = validate("keys = []\nmode = \"upsert\"\n");
  ASSERT_EQ(d.errors.size(), 1u) << all(d);
  EXPECT_EQ(d.errors[0], "f.toml:2:1: error: mode: mode = \"upsert\" needs keys");
  EXPECT_TRUE(validate("mode = \"upsert\"\nkeys = [\"id\"]\n").errors.empty());
  // A check of a nested table, at the inner key.
  d = validate("[main]\nurl = \"\"\nevery = \"1s\"\n");
  ASSERT_EQ(d.errors.size(), 1u) << all(d);
  EXPECT_EQ(d.errors[0], "f.toml:3:1: error: main.every: needs a url");
  // Not run over a table that already has a problem.
  EXPECT_EQ(validate("mode = \"upsert\"\nbuffer = \"x\"\n").errors.size(), 1u);
}

TEST(FormatOptionValue, WritesNestedTables) {
  auto d = validate("items = [{ url = \"a\" }]\n");
  EXPECT_EQ(format_option_value(d.values.at("items")), "[{ url = \"a\" }]");
}

}  // namespace
}  // namespace sluice
