// Sink `stdout`: every record's value as a JSON line on standard output.
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "sluice/error.h"
#include "sluice/json_lines.h"
#include "sluice/plugin_info.h"

namespace {

struct StdoutConfig {};

// A pipe takes PIPE_BUF bytes without blocking once poll() says it has room;
// a bigger write would wait for the reader, however long it does not read.
size_t write_size(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))) return PIPE_BUF;
  return size_t{1} << 20;
}

class StdoutSink : public sluice::Sink {
 public:
  StdoutSink(const StdoutConfig&, const sluice::PluginContext&) : chunk_(write_size(STDOUT_FILENO)) {}

  void write(std::span<const sluice::Message> batch) override {
    buffer_.clear();
    for (const auto& m : batch) sluice::append_json_line(buffer_, m.value);
    const char* p = buffer_.data();
    size_t left = buffer_.size();
    while (left > 0) {
      // A reader that stopped reading (a paused pager, a full pipe) must not
      // hold up a stop: wait for room in short slices, watching for it.
      pollfd out{STDOUT_FILENO, POLLOUT, 0};
      int ready = ::poll(&out, 1, 100);
      if (ready == 0 || (ready < 0 && errno == EINTR)) {
        if (stop_token().stop_requested())
          throw sluice::Error(sluice::errc::stopped,
                              "stdout: stopped while the reader of standard output was not reading");
        continue;
      }
      ssize_t n = ::write(STDOUT_FILENO, p, std::min(left, chunk_));
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n < 0) throw sluice::Error(sluice::errc::fatal, std::string("stdout: ") + std::strerror(errno));
      p += n;
      left -= static_cast<size_t>(n);
    }
  }

 private:
  size_t chunk_;
  std::string buffer_;
};

}  // namespace

sluice::PluginInfo sluice_builtin_stdout() {
  static const auto options = sluice::Options<StdoutConfig>();
  return sluice::sink_plugin<StdoutSink>("stdout", "prints each record as a JSON line on standard output",
                                         options);
}
