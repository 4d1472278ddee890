// Where a Lua source keeps ctx.state between runs, and how it is written:
// whole, atomically (temp file, fsync, rename, fsync of the directory), so a
// crash leaves either the old state or the new one, never a torn file.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace lua_source {

// The largest state file read back at a start; a larger ctx.state is not written.
inline constexpr size_t kMaxStateBytes = size_t{64} << 20;

// An exclusive lock (flock) on `<state file>.lock`, held while the source
// runs, so that two processes never write one state file: two pipelines of
// the same name with a source of the same name and state_dir would
// otherwise overwrite each other's progress. Throws sluice::Error(config).
class StateLock {
 public:
  explicit StateLock(const std::string& state_path);
  StateLock(const StateLock&) = delete;
  StateLock& operator=(const StateLock&) = delete;
  ~StateLock();

 private:
  int fd_ = -1;
};

// The state directory: `configured` (relative to `pipeline_dir`) when set;
// else $STATE_DIRECTORY (systemd; its first entry), else
// $XDG_STATE_HOME/sluice/<pipeline>, else ~/.local/state/sluice/<pipeline>.
// Throws sluice::Error(config) when none can be found.
std::string state_dir_for(const std::optional<std::string>& configured, const std::string& pipeline_dir,
                          const std::string& pipeline);

// `<dir>/<source>.state.json`, the source's name made safe as a file name.
std::string state_path_for(const std::string& dir, const std::string& source);

// Creates `dir` and missing parents (mode 0700). Throws sluice::Error(config).
void make_state_dir(const std::string& dir);

// The file's text, or nullopt when it does not exist. Throws
// sluice::Error(config) naming the file when it cannot be read.
std::optional<std::string> read_state(const std::string& path);

// Replaces the file's content atomically (mode 0600). Throws sluice::Error
// (fatal) naming the file, leaving the previous content in place; a text
// over kMaxStateBytes is refused (retriable: the script may shrink it).
void write_state(const std::string& path, const std::string& text);

}  // namespace lua_source
