#include "line_reader.h"

#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

namespace stdin_source {
namespace {

// Writes `input` into a pipe from another thread and reads it back as lines.
struct Read {
  std::vector<std::string> lines;   // each line, "!" prefixed when reported too long
  std::vector<uint64_t> numbers;
};

Read read_all(const std::string& input, size_t max_line_bytes) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  std::thread writer([&] {
    size_t done = 0;
    while (done < input.size()) {
      ssize_t n = ::write(fds[1], input.data() + done, input.size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    ::close(fds[1]);
  });
  Read out;
  LineReader reader(fds[0], max_line_bytes);
  std::string_view line;
  for (;;) {
    auto status = reader.next(line, [] { return false; });
    if (status == LineReader::Status::end) break;
    out.lines.push_back((status == LineReader::Status::too_long ? "!" : "") + std::string(line));
    out.numbers.push_back(reader.line_number());
  }
  writer.join();
  ::close(fds[0]);
  return out;
}

TEST(LineReader, SplitsLinesAndDropsCrlf) {
  Read r = read_all("a\r\nb\n\nc", 100);
  EXPECT_EQ(r.lines, (std::vector<std::string>{"a", "b", "", "c"}));
  EXPECT_EQ(r.numbers, (std::vector<uint64_t>{1, 2, 3, 4}));
}

TEST(LineReader, EmptyInputHasNoLines) { EXPECT_TRUE(read_all("", 100).lines.empty()); }

TEST(LineReader, ALineOverTheCapIsReportedWithItsNumberAndSkipped) {
  std::string huge(300000, 'x');  // spans several reads
  Read r = read_all("ok\n" + huge + "\nafter\n", 1000);
  ASSERT_EQ(r.lines.size(), 3u);
  EXPECT_EQ(r.lines[0], "ok");
  EXPECT_EQ(r.lines[1], "!" + std::string(64, 'x'));
  EXPECT_EQ(r.lines[2], "after");
  EXPECT_EQ(r.numbers, (std::vector<uint64_t>{1, 2, 3}));
}

TEST(LineReader, ALineJustOverTheCapInOneReadIsTooLong) {
  Read r = read_all("12345\n1234\n", 4);
  EXPECT_EQ(r.lines, (std::vector<std::string>{"!12345", "1234"}));
}

// A line of exactly the cap is read, whatever its line end and wherever a
// read stops; one byte more is too long.
TEST(LineReader, ALineOfExactlyTheCapIsReadWithAnyLineEnd) {
  EXPECT_EQ(read_all("1234\r", 4).lines, (std::vector<std::string>{"1234"}));
  EXPECT_EQ(read_all("1234\r\n1234\n1234", 4).lines, (std::vector<std::string>{"1234", "1234", "1234"}));
  EXPECT_EQ(read_all("12345\r", 4).lines, (std::vector<std::string>{"!12345\r"}));
  EXPECT_EQ(read_all("1234\r\r\n", 4).lines, (std::vector<std::string>{"!1234\r"}));
}

TEST(LineReader, AnOverLongLastLineWithoutNewline) {
  Read r = read_all("a\n" + std::string(5000, 'y'), 100);
  ASSERT_EQ(r.lines.size(), 2u);
  EXPECT_EQ(r.lines[1][0], '!');
}

TEST(LineReader, StopsWhileInputIsSilent) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  LineReader reader(fds[0], 100);
  std::string_view line;
  EXPECT_EQ(reader.next(line, [] { return true; }), LineReader::Status::stopped);
  ::close(fds[0]);
  ::close(fds[1]);
}

}  // namespace
}  // namespace stdin_source
