// Where a Lua source keeps ctx.state between runs, and how it is written:
// whole, atomically (temp file, fsync, rename, fsync of the directory), so a
// crash leaves either the old state or the new one, never a torn file.
#pragma once

#include <optional>
#include <string>

namespace lua_source {

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
// (fatal) naming the file, leaving the previous content in place.
void write_state(const std::string& path, const std::string& text);

}  // namespace lua_source
