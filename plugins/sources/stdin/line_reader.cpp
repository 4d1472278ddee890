#include "line_reader.h"

#include <cerrno>
#include <cstring>

#include <poll.h>
#include <unistd.h>

#include "sluice/error.h"

namespace stdin_source {

namespace {
constexpr size_t kChunk = 64 * 1024;
constexpr int kPollStepMs = 100;  // how soon a stop is seen while input is silent
}  // namespace

LineReader::LineReader(int fd, size_t max_line_bytes) : fd_(fd), max_line_bytes_(max_line_bytes) {}

bool LineReader::fill(const std::function<bool()>& stopping, bool& stopped) {
  // Drop what was consumed, so the buffer never holds more than one line
  // (at most the cap) plus one chunk.
  if (start_ > 0) {
    buffer_.erase(0, start_);
    start_ = 0;
  }
  for (;;) {
    if (stopping()) {
      stopped = true;
      return false;
    }
    pollfd p{fd_, POLLIN, 0};
    int ready = ::poll(&p, 1, kPollStepMs);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) throw sluice::Error(sluice::errc::fatal, std::string("reading stdin: ") + std::strerror(errno));
    if (ready == 0) continue;
    if (p.revents & POLLNVAL) throw sluice::Error(sluice::errc::fatal, "reading stdin: it is not open");
    const size_t old = buffer_.size();
    buffer_.resize(old + kChunk);
    ssize_t n = ::read(fd_, buffer_.data() + old, kChunk);
    if (n < 0) {
      buffer_.resize(old);
      if (errno == EINTR || errno == EAGAIN) continue;
      throw sluice::Error(sluice::errc::fatal, std::string("reading stdin: ") + std::strerror(errno));
    }
    buffer_.resize(old + static_cast<size_t>(n));
    if (n == 0) {
      eof_ = true;
      return false;
    }
    return true;
  }
}

LineReader::Status LineReader::next(std::string_view& line, const std::function<bool()>& stopping) {
  for (;;) {
    const size_t from = start_ + scanned_;
    const size_t newline = buffer_.find('\n', from);
    if (newline != std::string::npos) {
      const size_t begin = start_;
      start_ = newline + 1;
      scanned_ = 0;
      if (skipping_) {  // the end of an over-long line, already reported
        skipping_ = false;
        continue;
      }
      ++line_number_;
      size_t end = newline;
      if (end > begin && buffer_[end - 1] == '\r') --end;
      line = std::string_view(buffer_).substr(begin, end - begin);
      if (line.size() > max_line_bytes_) {
        line = line.substr(0, 64);
        return Status::too_long;
      }
      return Status::line;
    }
    scanned_ = buffer_.size() - start_;
    // A last "\r" may be the start of a "\r\n" still to come (or end a CRLF
    // last line): it is not counted against the cap.
    const size_t cr_pending = scanned_ > 0 && buffer_.back() == '\r' ? 1 : 0;
    if (!skipping_ && scanned_ > max_line_bytes_ + cr_pending) {
      // Report it now, with its first bytes, and discard the rest as it comes.
      ++line_number_;
      skipping_ = true;
      line = std::string_view(buffer_).substr(start_, std::min<size_t>(scanned_, 64));
      prefix_.assign(line);
      line = prefix_;
      start_ = buffer_.size();
      scanned_ = 0;
      return Status::too_long;
    }
    if (skipping_) {
      start_ = buffer_.size();
      scanned_ = 0;
    }
    if (eof_) {
      if (skipping_ || start_ == buffer_.size()) return Status::end;
      // The last line had no "\n".
      ++line_number_;
      size_t begin = start_, end = buffer_.size();
      start_ = end;
      if (buffer_[end - 1] == '\r') --end;
      line = std::string_view(buffer_).substr(begin, end - begin);
      return Status::line;
    }
    bool stopped = false;
    if (!fill(stopping, stopped) && stopped) return Status::stopped;
  }
}

}  // namespace stdin_source
