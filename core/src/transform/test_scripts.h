// Test helper: scripts written to a private temporary directory.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

namespace sluice::testing {

class ScriptDir {
 public:
  ScriptDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sluice-lua-XXXXXX").string();
    dir_ = mkdtemp(tmpl.data());
  }
  ~ScriptDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string write(const std::string& name, const std::string& text) const {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
  const std::string& path() const { return dir_; }

 private:
  std::string dir_;
};

}  // namespace sluice::testing
