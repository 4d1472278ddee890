// Sink `stdout`: every record's value as a JSON line on standard output.
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sluice/error.h"
#include "sluice/json_lines.h"
#include "sluice/plugin_info.h"

namespace {

struct StdoutConfig {};

class StdoutSink : public sluice::Sink {
 public:
  StdoutSink(const StdoutConfig&, const sluice::PluginContext&) {}

  void write(std::span<const sluice::Message> batch) override {
    buffer_.clear();
    for (const auto& m : batch) sluice::append_json_line(buffer_, m.value);
    const char* p = buffer_.data();
    size_t left = buffer_.size();
    while (left > 0) {
      ssize_t n = ::write(STDOUT_FILENO, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw sluice::Error(sluice::ErrorClass::fatal, std::string("stdout: ") + std::strerror(errno));
      p += n;
      left -= static_cast<size_t>(n);
    }
  }

 private:
  std::string buffer_;
};

}  // namespace

sluice::PluginInfo sluice_builtin_stdout() {
  static const auto options = sluice::Options<StdoutConfig>();
  return sluice::sink_plugin<StdoutSink>("stdout", "prints each record as a JSON line on standard output",
                                         options);
}
