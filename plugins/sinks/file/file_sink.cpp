// Sink `file`: appends every record's value as a JSON line to a file, and
// fsyncs once per batch before the batch's offsets are committed.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sluice/error.h"
#include "sluice/json_lines.h"
#include "sluice/plugin_info.h"

namespace {

struct FileConfig {
  std::string path;
  bool fsync = true;
};

class FileSink : public sluice::Sink {
 public:
  FileSink(const FileConfig& config, const sluice::PluginContext&) : config_(config) {
    fd_ = ::open(config_.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0) fail("cannot open", sluice::ErrorClass::fatal);
  }
  ~FileSink() override {
    if (fd_ >= 0) ::close(fd_);
  }
  FileSink(const FileSink&) = delete;
  FileSink& operator=(const FileSink&) = delete;

  void write(std::span<const sluice::Message> batch) override {
    buffer_.clear();
    for (const auto& m : batch) sluice::append_json_line(buffer_, m.value);
    batch_start_ = ::lseek(fd_, 0, SEEK_END);
    const char* p = buffer_.data();
    size_t left = buffer_.size();
    while (left > 0) {
      ssize_t n = ::write(fd_, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fail("cannot write", sluice::ErrorClass::retriable);
      p += n;
      left -= static_cast<size_t>(n);
    }
  }

  void flush() override {
    if (config_.fsync && ::fsync(fd_) != 0) fail("cannot fsync", sluice::ErrorClass::retriable);
  }

 private:
  // A full or failing disk may recover and the runner then retries the batch
  // whole, so whatever part of it reached the file is cut away first.
  [[noreturn]] void fail(const char* what, sluice::ErrorClass cls) {
    int saved = errno;
    if (batch_start_ >= 0 && cls == sluice::ErrorClass::retriable) {
      // Best effort: should the cut fail too, the retry meets the same disk and says so.
      [[maybe_unused]] int cut = ::ftruncate(fd_, batch_start_);
    }
    errno = saved;
    throw sluice::Error(cls, std::string(what) + " " + config_.path + ": " + std::strerror(errno));
  }

  FileConfig config_;
  int fd_ = -1;
  off_t batch_start_ = -1;
  std::string buffer_;
};

}  // namespace

sluice::PluginInfo sluice_builtin_file() {
  static const auto options = sluice::Options<FileConfig>()
    .string("path", &FileConfig::path, "file the JSON lines are appended to").required()
    .boolean("fsync", &FileConfig::fsync, "fsync after every batch, before offsets are committed")
      .def(true);
  return sluice::sink_plugin<FileSink>("file", "appends each record as a JSON line to a file", options);
}
