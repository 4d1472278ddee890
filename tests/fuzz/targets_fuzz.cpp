// Fuzzes the http_checker targets file: the input is written to the sandbox
// as targets.toml and as targets.txt (one URL a line) and loaded as each.
// Loading must end in targets or in sluice::Error(config), never in a crash,
// a hang, a leak or another exception; every target it returns must be one
// the checker can run (an http(s) URL, a timeout above zero).
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "fuzz_sandbox.h"
#include "toml_known_bugs.h"
#include "sluice/error.h"
#include "targets.h"

namespace {

bool http_scheme(const std::string& url) {
  std::string head = url.substr(0, 6);
  for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return head.rfind("http:", 0) == 0 || head.rfind("https:", 0) == 0;
}

void load(const std::string& file) {
  http_checker::CheckerConfig config;
  config.targets_file = file;
  std::vector<http_checker::Target> targets;
  try {
    targets = http_checker::load_targets(config, "checker");
  } catch (const sluice::Error& e) {
    if (e.error_class() != sluice::ErrorClass::config) {
      std::fprintf(stderr, "%s: not a config error: %s\n", file.c_str(), e.what());
      std::abort();
    }
    return;
  }
  for (const auto& t : targets)
    if (t.timeout.count() <= 0 || !http_scheme(t.url)) {
      std::fprintf(stderr, "%s: loaded a target that cannot be checked: `%s`\n", file.c_str(), t.url.c_str());
      std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  sluice_fuzz::enter_sandbox({});
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (sluice_fuzz::reaches_toml_unreachable(data, size)) return -1;
  for (const char* name : {"targets.toml", "targets.txt"}) {
    sluice_fuzz::write_file(name, data, size);
    load(name);
  }
  return 0;
}
