// Reading a file a pipeline names (a ${file:} secret, a Lua script, a
// targets file, a CA bundle): it must be a regular file of bounded size, so
// that /dev/zero cannot exhaust memory, a FIFO cannot hang the load and a
// directory is not silently read as "". Header-only: plugins may include
// only core's public headers.
#pragma once

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sluice {

constexpr size_t kMaxSecretFileBytes = size_t{1} << 20;   // a password, key or token
constexpr size_t kMaxScriptFileBytes = size_t{4} << 20;   // a Lua transform
constexpr size_t kMaxListFileBytes = size_t{4} << 20;     // a targets file, a CA bundle
constexpr size_t kMaxPipelineFileBytes = size_t{4} << 20; // the pipeline file itself

// Whether a pipe may stand for the file (the pipeline file itself, as in
// `sluice check <(generate)`); everything a pipeline names must be regular.
enum class FileKind { regular, regular_or_pipe };

namespace detail {
struct FileDescriptor {
  int fd = -1;
  ~FileDescriptor() {
    if (fd >= 0) ::close(fd);
  }
};

inline std::string size_text(size_t bytes) {
  return bytes % (size_t{1} << 20) == 0 ? std::to_string(bytes >> 20) + " MiB" : std::to_string(bytes) + " bytes";
}

inline const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

// Opens without blocking (a FIFO with no writer would block open itself)
// and checks what the path is. Returns a problem, or "" with `fd` open.
inline std::string open_checked(const std::string& path, size_t max_bytes, FileKind kind, FileDescriptor& fd) {
  fd.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd.fd < 0) return "cannot open `" + path + "`: " + std::strerror(errno);
  struct stat st {};
  if (::fstat(fd.fd, &st) != 0) return "cannot stat `" + path + "`: " + std::strerror(errno);
  bool pipe_ok = kind == FileKind::regular_or_pipe && S_ISFIFO(st.st_mode);
  if (!S_ISREG(st.st_mode) && !pipe_ok)
    return "`" + path + "` is " + kind_of(st.st_mode) + ", not a regular file";
  if (S_ISREG(st.st_mode) && static_cast<unsigned long long>(st.st_size) > max_bytes)
    return "`" + path + "` is larger than " + size_text(max_bytes);
  if (pipe_ok) ::fcntl(fd.fd, F_SETFL, ::fcntl(fd.fd, F_GETFL) & ~O_NONBLOCK);
  return "";
}
}  // namespace detail

// The problem with `path` as such a file ("" if none), without reading it:
// for paths handed on to a library (a CA file given to libcurl or librdkafka).
inline std::string bounded_file_problem(const std::string& path, size_t max_bytes) {
  detail::FileDescriptor fd;
  return detail::open_checked(path, max_bytes, FileKind::regular, fd);
}

// The whole content of `path`, or nullopt with `error` saying why (naming the
// path, never any content). A file that grows past the bound while it is
// read is refused too.
inline std::optional<std::string> read_bounded_file(const std::string& path, size_t max_bytes, std::string& error,
                                                    FileKind kind = FileKind::regular) {
  detail::FileDescriptor fd;
  error = detail::open_checked(path, max_bytes, kind, fd);
  if (!error.empty()) return std::nullopt;
  std::string text;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = "cannot read `" + path + "`: " + std::strerror(errno);
      return std::nullopt;
    }
    if (n == 0) return text;
    if (text.size() + static_cast<size_t>(n) > max_bytes) {
      error = "`" + path + "` is larger than " + detail::size_text(max_bytes);
      return std::nullopt;
    }
    text.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace sluice
