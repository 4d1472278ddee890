#include "regex.h"

#include <sys/prctl.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstdio>
#include <sstream>

#ifndef PR_SET_MDWE
#define PR_SET_MDWE 65
#endif
#ifndef PR_GET_MDWE
#define PR_GET_MDWE 66
#endif
#ifndef PR_MDWE_REFUSE_EXEC_GAIN
#define PR_MDWE_REFUSE_EXEC_GAIN 1
#endif

using http_checker::Regex;

namespace {

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Runs in the death test's child: the kernel's memory-deny-write-execute
// (what systemd's MemoryDenyWriteExecute=yes enforces with seccomp) refuses
// PCRE2 the writable-then-executable memory its JIT needs, for this process only.
int match_without_jit() {
  if (prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0) {
    std::fprintf(stderr, "no PR_SET_MDWE in this kernel\n");
    _exit(3);
  }
  std::ostringstream log;
  spdlog::set_default_logger(
      std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::ostream_sink_st>(log)));
  std::string error;
  auto ok = Regex::compile("status: (ok|fine)", error);
  auto digits = Regex::compile("^[0-9]+$", error);
  auto other = Regex::compile("h.llo", error);
  if (!ok || !digits || !other) {
    std::fprintf(stderr, "compile failed: %s\n", error.c_str());
    return 1;
  }
  auto data = Regex::make_match_data();
  bool right = ok->search("x status: fine y", data.get()) && !ok->search("status: bad", data.get()) &&
               digits->search("12345", data.get()) && !digits->search("12a45", data.get()) &&
               other->search("say hallo", data.get());
  size_t lines = count(log.str(), "PCRE2 JIT unavailable");
  std::fprintf(stderr, "matches right: %d, JIT log lines: %zu\n", right, lines);
  return right && lines == 1 ? 0 : 1;
}

}  // namespace

TEST(RegexDeathTest, WithoutJitMatchesInTheInterpreterAndSaysSoOnce) {
  uint32_t has_jit = 0;
  pcre2_config(PCRE2_CONFIG_JIT, &has_jit);
  if (!has_jit) GTEST_SKIP() << "this PCRE2 has no JIT: nothing to refuse";
  if (prctl(PR_GET_MDWE, 0, 0, 0, 0) < 0 && errno == EINVAL) GTEST_SKIP() << "no PR_SET_MDWE (Linux < 6.3)";
  EXPECT_EXIT(_exit(match_without_jit()), testing::ExitedWithCode(0), "matches right: 1, JIT log lines: 1");
}

TEST(Regex, WithJitSaysNothing) {
  uint32_t has_jit = 0;
  pcre2_config(PCRE2_CONFIG_JIT, &has_jit);
  if (!has_jit) GTEST_SKIP() << "this PCRE2 has no JIT";
  std::ostringstream log;
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(
      std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::ostream_sink_st>(log)));
  std::string error;
  auto re = Regex::compile("a+b", error);
  spdlog::set_default_logger(previous);
  ASSERT_TRUE(re) << error;
  auto data = Regex::make_match_data();
  EXPECT_TRUE(re->search("xaaab", data.get()));
  EXPECT_EQ(log.str(), "");
}
