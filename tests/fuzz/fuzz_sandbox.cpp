#include "fuzz_sandbox.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <unistd.h>

namespace sluice_fuzz {

namespace {

std::string sandbox_path;

void remove_sandbox() {
  std::error_code ec;
  if (!sandbox_path.empty()) std::filesystem::remove_all(sandbox_path, ec);
}

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "fuzz sandbox: %s\n", what.c_str());
  std::abort();
}

}  // namespace

const std::string& enter_sandbox(const std::map<std::string, std::string>& files) {
  if (!sandbox_path.empty()) return sandbox_path;
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/sluice-fuzz.XXXXXX";
  if (!mkdtemp(pattern.data())) fail("cannot create " + pattern);
  sandbox_path = pattern;
  std::atexit(remove_sandbox);
  if (chdir(sandbox_path.c_str()) != 0) fail("cannot enter " + sandbox_path);
  for (const auto& [name, content] : files) write_file(name, content.data(), content.size());
  return sandbox_path;
}

void write_file(const std::string& name, const void* data, size_t size) {
  std::ofstream out(name, std::ios::binary | std::ios::trunc);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out) fail("cannot write " + name);
}

}  // namespace sluice_fuzz
