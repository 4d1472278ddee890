#include "state_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "sluice/bounded_file.h"
#include "sluice/error.h"

namespace lua_source {

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

[[noreturn]] void fail(const std::string& what, const std::string& path) {
  throw sluice::Error(sluice::errc::fatal, "state file `" + path + "`: " + what + ": " + std::strerror(errno));
}

}  // namespace

std::string state_dir_for(const std::optional<std::string>& configured, const std::string& pipeline_dir,
                          const std::string& pipeline) {
  namespace fs = std::filesystem;
  if (configured && !configured->empty()) {
    fs::path p(*configured);
    return (p.is_relative() ? fs::path(pipeline_dir) / p : p).lexically_normal().string();
  }
  if (std::string systemd = env("STATE_DIRECTORY"); !systemd.empty()) return systemd.substr(0, systemd.find(':'));
  if (std::string xdg = env("XDG_STATE_HOME"); !xdg.empty() && fs::path(xdg).is_absolute())
    return (fs::path(xdg) / "sluice" / pipeline).string();
  if (std::string home = env("HOME"); !home.empty())
    return (fs::path(home) / ".local" / "state" / "sluice" / pipeline).string();
  throw sluice::Error(sluice::errc::config,
                      "no state directory: set state_dir (neither STATE_DIRECTORY, XDG_STATE_HOME nor HOME is set)");
}

std::string state_path_for(const std::string& dir, const std::string& source) {
  std::string name = source;
  for (char& c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) c = '_';
  if (name.empty() || name.front() == '.') name.insert(0, "_");
  return (std::filesystem::path(dir) / (name + ".state.json")).string();
}

void make_state_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  fs::path path;
  for (const auto& part : fs::path(dir).lexically_normal()) {
    path /= part;
    if (part.empty() || part == "/") continue;
    if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST)
      throw sluice::Error(sluice::errc::config,
                          "cannot create the state directory `" + path.string() + "`: " + std::strerror(errno));
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw sluice::Error(sluice::errc::config, "the state directory `" + dir + "` is not a directory");
}

std::optional<std::string> read_state(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 && errno == ENOENT) return std::nullopt;
  std::string problem;
  auto text = sluice::read_bounded_file(path, kMaxStateBytes, problem);
  if (!text) throw sluice::Error(sluice::errc::config, "cannot read the state file: " + problem);
  return text;
}

StateLock::StateLock(const std::string& state_path) {
  const std::string path = state_path + ".lock";
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd_ < 0)
    throw sluice::Error(sluice::errc::config, "cannot create the state lock `" + path + "`: " + std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    ::close(fd_);
    fd_ = -1;
    throw sluice::Error(sluice::errc::config,
                        error == EWOULDBLOCK
                            ? "the state file `" + state_path + "` is in use by another running source (a pipeline of "
                              "the same name with a source of the same name and state_dir?); give one its own state_dir"
                            : "cannot lock `" + path + "`: " + std::strerror(error));
  }
}

StateLock::~StateLock() {
  if (fd_ >= 0) ::close(fd_);
}

void write_state(const std::string& path, const std::string& text) {
  const std::string temp = path + ".tmp";
  if (text.size() > kMaxStateBytes) {
    throw sluice::Error(sluice::errc::unavailable, "state file `" + path + "`: ctx.state encodes to " +
                                                       std::to_string(text.size()) + " bytes, more than the " +
                                                       std::to_string(kMaxStateBytes >> 20) +
                                                       " MB a state file may hold; not saved");
  }
  {
    Fd out{::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600)};
    if (out.fd < 0) fail("cannot create " + temp, path);
    size_t done = 0;
    while (done < text.size()) {
      const ssize_t n = ::write(out.fd, text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fail("cannot write " + temp, path);
      done += static_cast<size_t>(n);
    }
    if (::fsync(out.fd) != 0) fail("cannot fsync " + temp, path);
    const int fd = out.fd;
    out.fd = -1;
    if (::close(fd) != 0) fail("cannot close " + temp, path);
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) fail("cannot rename " + temp + " over it", path);
  // The rename is durable only once the directory is.
  const std::string dir = std::filesystem::path(path).parent_path().string();
  Fd d{::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (d.fd < 0 || ::fsync(d.fd) != 0) fail("cannot fsync its directory", path);
}

}  // namespace lua_source
