// The `lua` source's options as bound from the pipeline file (the table is
// in lua_source.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "sluice/options.h"

namespace lua_source {

struct LuaSourceConfig {
  std::string script;
  sluice::Milliseconds interval{60'000};
  std::optional<std::string> state_dir;
  sluice::Milliseconds http_timeout{30'000};
  int64_t http_max_bytes = 16 << 20;
  std::optional<std::string> ca_file;
  int64_t instructions = 100'000'000;
  int64_t memory = 64 << 20;
  sluice::StringMap params, secrets;
};

}  // namespace lua_source
