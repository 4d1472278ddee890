// Fuzzes the pipeline loader: TOML text -> ${VAR} / ${VAR:-default} /
// ${file:NAME} expansion -> validation against every built-in plugin's option
// table (and the Lua transforms it names, compiled and run at load). It must
// never crash, hang or leak, and the diagnostics it prints, masked as `check`
// and `run` mask them, must never show a secret read through ${file:}.
//
// Confinement: the loader reads files named by ${file:...} and `transforms`.
// Every '/' of the input becomes '_' and an input whose strings still hold one
// (written as an escape) is skipped, so every name is taken from the sandbox
// directory, which holds only the fixtures below; the environment is replaced
// by a few variables whose values hold no '/' either.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config/pipeline.h"
#include "config/toml_fwd.h"
#include "fuzz_sandbox.h"
#include "toml_known_bugs.h"
#include "plugin/registry.h"

namespace {

constexpr std::string_view kSecret = "s3cr3t-from-file";

const char* const kFixtureTransform = "function transform(r, meta) return r end\n";

// Every value reachable from a pipeline: the fixture files (the seed corpus
// names them) and the environment.
void set_up() {
  sluice_fuzz::enter_sandbox({
      {"secret.txt", std::string(kSecret) + "\n"},
      {"secret_crlf.txt", std::string(kSecret) + "\r\n"},
      {"empty.txt", ""},
      {"transform.lua", kFixtureTransform},
      // The shipped pipelines' "../transforms/x.lua", with '/' made '_'.
      {".._transforms_validate_route.lua", kFixtureTransform},
      {".._transforms_enrich_route.lua", kFixtureTransform},
      {".._transforms_website_check_row.lua", kFixtureTransform},
      {"syntax_error.lua", "function transform(r) return r\n"},
      {"no_transform.lua", "local x = 1\n"},
      {"top_level_error.lua", "error('at load')\n"},
      {"targets.txt", "http://127.0.0.1:1/\n"},
      {"targets.toml", "[[targets]]\nurl = \"http://127.0.0.1:1/\"\n"},
  });
  clearenv();
  setenv("PG_URI", "host=127.0.0.1 port=1 dbname=fuzz user=fuzz", 1);
  setenv("KAFKA_BOOTSTRAP", "127.0.0.1:1", 1);
  setenv("SLUICE_FUZZ_NAME", "fuzzed", 1);
  setenv("SLUICE_FUZZ_NUMBER", "42", 1);
  setenv("SLUICE_FUZZ_EMPTY", "", 1);
}

// True when no string, key included, holds a '/' (nor the secret itself:
// the input could then print it legitimately, as a key or a value).
bool confined(const toml::node& node, bool& names_secret) {
  auto check = [&](std::string_view s) {
    if (s.find(kSecret) != std::string_view::npos) names_secret = true;
    return s.find('/') == std::string_view::npos;
  };
  if (const toml::table* t = node.as_table()) {
    for (const auto& [key, value] : *t)
      if (!check(key.str()) || !confined(value, names_secret)) return false;
  } else if (const toml::array* a = node.as_array()) {
    for (const auto& item : *a)
      if (!confined(item, names_secret)) return false;
  } else if (auto s = node.value_exact<std::string>()) {
    return check(*s);
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  set_up();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const sluice::PluginRegistry registry = [] {
    sluice::PluginRegistry r;
    sluice::register_builtin_plugins(r);
    return r;
  }();
  if (sluice_fuzz::reaches_toml_unreachable(data, size)) return -1;
  std::string text(reinterpret_cast<const char*>(data), size);
  for (char& c : text)
    if (c == '/') c = '_';
  bool names_secret = false;
  {
    toml::parse_result parsed = toml::parse(std::string_view(text), std::string_view("p.toml"));
    if (parsed && !confined(parsed.table(), names_secret)) return -1;  // not added to the corpus
    // Text that is not TOML is refused before any ${file:} is read, so what
    // its error quotes (a key, a table name) came from the input itself.
    if (!parsed) names_secret = true;
  }
  sluice::Diagnostics diagnostics;
  sluice::PipelineConfig config = sluice::load_pipeline_text(text, "p.toml", registry, diagnostics);
  const std::string shown = sluice::redact(diagnostics.format(), config.secret_values);
  if (!names_secret && shown.find(kSecret) != std::string::npos) {
    std::fprintf(stderr, "a ${file:} secret is printed unmasked:\n%s\n", shown.c_str());
    std::abort();
  }
  if (!diagnostics.has_errors())
    for (const auto& sink : config.sinks) (void)sluice::consumer_group(config, sink);
  return 0;
}
