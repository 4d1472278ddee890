#include "targets.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "sluice/error.h"

using namespace http_checker;

namespace {

std::string write_temp(const std::string& suffix, const std::string& text) {
  std::string path = ::testing::TempDir() + "http_checker_targets_" +
                     ::testing::UnitTest::GetInstance()->current_test_info()->name() + suffix;
  std::ofstream(path) << text;
  return path;
}

std::string load_error(const CheckerConfig& config) {
  try {
    load_targets(config, "checker");
  } catch (const sluice::Error& e) {
    EXPECT_EQ(e.error_class(), sluice::ErrorClass::config);
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Targets, UrlsTakeTheSourceSettings) {
  CheckerConfig c;
  c.urls = {"http://127.0.0.1:1/", "https://127.0.0.1:2/x"};
  c.regex = "ok";
  c.method = "HEAD";
  c.headers = {{"X-A", "1"}};
  auto targets = load_targets(c, "checker");
  ASSERT_EQ(targets.size(), 2u);
  EXPECT_EQ(targets[1].name, "https://127.0.0.1:2/x");
  EXPECT_TRUE(targets[0].head);
  EXPECT_EQ(targets[0].interval, std::chrono::seconds(30));
  ASSERT_TRUE(targets[0].regex);
  EXPECT_EQ(targets[0].regex.get(), targets[1].regex.get());  // compiled once
  ASSERT_TRUE(targets[0].headers);
  EXPECT_STREQ(targets[0].headers->data, "X-A: 1");
}

TEST(Targets, TomlFileOverridesPerTarget) {
  CheckerConfig c;
  c.targets_file = write_temp(".toml", R"(
[[targets]]
name = "home"
url = "http://127.0.0.1:8080/"
interval = "2s"
timeout = "500ms"
expect_status = [200, "300-302"]
regex = "Welcome"

[[targets]]
url = "http://127.0.0.1:8080/b"
method = "HEAD"
headers = { "X-Token" = "t" }
)");
  auto targets = load_targets(c, "checker");
  ASSERT_EQ(targets.size(), 2u);
  EXPECT_EQ(targets[0].name, "home");
  EXPECT_EQ(targets[0].interval, std::chrono::seconds(2));
  EXPECT_EQ(targets[0].timeout, std::chrono::milliseconds(500));
  EXPECT_TRUE(targets[0].expect_status.contains(301));
  EXPECT_FALSE(targets[0].expect_status.contains(204));
  EXPECT_TRUE(targets[0].regex);
  EXPECT_TRUE(targets[1].head);
  EXPECT_FALSE(targets[1].regex);
  EXPECT_EQ(targets[1].interval, std::chrono::seconds(30));
}

TEST(Targets, ErrorsInTheFileNameFileLineAndColumn) {
  CheckerConfig c;
  c.targets_file = write_temp(".toml", "[[targets]]\nurl = \"http://127.0.0.1/\"\nregex = \"a(b\"\n"
                                       "[[targets]]\nurl = \"ftp://x/\"\ninterval = \"soon\"\nmethd = \"GET\"\n");
  std::string error = load_error(c);
  const std::string& f = *c.targets_file;
  EXPECT_NE(error.find(f + ":3:9: error: targets[0].regex: invalid regex: missing closing parenthesis at offset 3"),
            std::string::npos) << error;
  EXPECT_NE(error.find(f + ":5:7: error: targets[1].url: `ftp://x/`: only http and https URLs can be checked"),
            std::string::npos) << error;
  EXPECT_NE(error.find(f + ":6:12: error: targets[1].interval: `soon` is not a duration"), std::string::npos) << error;
  EXPECT_NE(error.find(f + ":7:1: error: targets[1].methd: unknown key"), std::string::npos) << error;
}

TEST(Targets, OneUrlPerLine) {
  CheckerConfig c;
  c.targets_file = write_temp(".txt", "# comment\nhttp://127.0.0.1/a\n\n  http://127.0.0.1/b  \nnot a url\n");
  std::string error = load_error(c);
  EXPECT_NE(error.find(*c.targets_file + ":5:1: error: `not a url` is not a valid URL"), std::string::npos) << error;
  c.targets_file = write_temp(".list", "http://127.0.0.1/a\n  http://127.0.0.1/b\n");
  EXPECT_EQ(load_targets(c, "checker").size(), 2u);
}

TEST(Targets, SourceLevelProblemsNameTheSourceAndKey) {
  CheckerConfig c;
  c.urls = {"http://127.0.0.1/"};
  c.regex = "(";
  c.expect_status = "2xx";
  std::string error = load_error(c);
  EXPECT_NE(error.find("checker.regex: invalid regex: missing closing parenthesis at offset 1"), std::string::npos) << error;
  EXPECT_NE(error.find("checker.expect_status: `2xx` is not a status code"), std::string::npos) << error;
  EXPECT_EQ(load_error(CheckerConfig{}), "checker: no targets: set `urls`, `targets` or `targets_file`");
}

TEST(Targets, FileErrorsUseTheTargetTablesMessages) {
  CheckerConfig c;
  c.targets_file = write_temp(".toml", "[[targets]]\nurl = \"http://127.0.0.1/\"\nexpect_status = [200, \"2xx\"]\n"
                                       "timeout = \"0s\"\n[[target]]\nurl = \"http://127.0.0.1/\"\n");
  std::string error = load_error(c);
  const std::string& f = *c.targets_file;
  EXPECT_NE(error.find(f + ":3:23: error: targets[0].expect_status: `2xx` is not a status code"), std::string::npos) << error;
  EXPECT_NE(error.find(f + ":4:11: error: targets[0].timeout: must be at least 1"), std::string::npos) << error;
  EXPECT_NE(error.find(f + ":5:3: error: target: unknown key (did you mean `targets`?)"), std::string::npos) << error;
}

TEST(Targets, InlineTargetsOverrideTheSourceAndShareRegexes) {
  CheckerConfig c;
  c.headers = {{"X-A", "1"}};
  TargetConfig a;
  a.regex = std::string("ok");
  a.url = "http://127.0.0.1:1/";
  a.name = "a";
  a.method = "HEAD";
  a.interval = std::chrono::seconds(2);
  a.expect_status = {"204", "300-302"};
  a.headers = {{"X-B", "2"}};
  a.ca_file = "/etc/p/ca.pem";
  TargetConfig b;
  b.url = "http://127.0.0.1:2/";
  b.regex = std::string("ok");
  c.targets = {a, b};
  auto targets = load_targets(c, "checker");
  ASSERT_EQ(targets.size(), 2u);
  EXPECT_EQ(targets[0].name, "a");
  EXPECT_TRUE(targets[0].head);
  EXPECT_EQ(targets[0].interval, std::chrono::seconds(2));
  EXPECT_TRUE(targets[0].expect_status.contains(301));
  EXPECT_FALSE(targets[0].expect_status.contains(200));
  EXPECT_EQ(targets[0].ca_file, "/etc/p/ca.pem");
  ASSERT_TRUE(targets[0].headers && targets[0].headers->next);
  EXPECT_STREQ(targets[0].headers->next->data, "X-B: 2");
  EXPECT_EQ(targets[1].name, "http://127.0.0.1:2/");
  EXPECT_EQ(targets[1].interval, std::chrono::seconds(30));
  EXPECT_EQ(targets[1].regex.get(), targets[0].regex.get());  // the same pattern, compiled once
}
