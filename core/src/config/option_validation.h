// Checks one TOML table against an option table: unknown keys (with the
// nearest valid key), missing required options, types, ranges, choices and
// ${...} expansion, nested tables at their own keys, and cross-field checks. Produces values with defaults filled in.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "config/toml_fwd.h"
#include "sluice/options.h"

namespace sluice {

struct ValidationScope {
  std::string key_path;        // "sinks[0]"
  Diagnostics* diagnostics;
  std::set<std::string>* secret_values = nullptr;  // collects values that must never be printed
  std::set<std::string>* secret_spans = nullptr;   // and texts no quoted fragment of which may be
  bool report_unknown_keys = true;
  std::string pipeline_dir;  // for option validators: relative paths start here
};

// `checks`: the table's cross-field checks, run when every option is valid.
OptionValues validate_options(const std::vector<OptionSpec>& specs, const toml::table& table,
                              const ValidationScope& scope, const std::vector<OptionTableCheck>& checks = {});

}  // namespace sluice
