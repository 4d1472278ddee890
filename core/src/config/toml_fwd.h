// toml++ is compiled once (config/toml_impl.cpp); everything else includes it
// through here so the settings stay the same in every translation unit.
#pragma once

#ifndef TOML_EXCEPTIONS
#define TOML_EXCEPTIONS 0
#endif
#ifndef TOML_HEADER_ONLY
#define TOML_HEADER_ONLY 0
#endif
#include <toml++/toml.h>

#include "config/diagnostics.h"

namespace sluice {

inline SourcePos pos_of(const toml::source_region& region) {
  return {region.path ? std::string(*region.path) : std::string(),
          static_cast<int>(region.begin.line), static_cast<int>(region.begin.column)};
}

}  // namespace sluice
