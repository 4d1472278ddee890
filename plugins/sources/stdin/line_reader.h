// Splits a byte stream (a file descriptor) into lines with bounded memory:
// a line longer than the cap is reported and skipped, never buffered whole.
// Reads wait in poll() in short steps, so a stop request is seen even while
// the writer at the other end of a pipe or terminal is silent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace stdin_source {

class LineReader {
 public:
  enum class Status {
    line,      // `line` is the next line, without its "\n" or "\r\n"
    too_long,  // the line exceeds the cap; `line` holds its first bytes; the rest is skipped
    end,       // end of input
    stopped,   // `stopping` turned true while waiting for input
  };

  // `fd` stays owned by the caller.
  LineReader(int fd, size_t max_line_bytes);

  // The next line (valid until the next call). Throws sluice::Error on a read error.
  Status next(std::string_view& line, const std::function<bool()>& stopping);

  // 1-based number of the line last returned.
  uint64_t line_number() const { return line_number_; }

 private:
  // Reads more into buffer_; false at end of input or on stop.
  bool fill(const std::function<bool()>& stopping, bool& stopped);

  int fd_;
  size_t max_line_bytes_;
  std::string buffer_;
  std::string prefix_;        // the first bytes of a line too long, as reported
  size_t start_ = 0;          // where the next line begins in buffer_
  size_t scanned_ = 0;        // bytes after start_ already known to hold no "\n"
  bool skipping_ = false;     // discarding the rest of a line that was too long
  bool eof_ = false;
  uint64_t line_number_ = 0;
};

}  // namespace stdin_source
