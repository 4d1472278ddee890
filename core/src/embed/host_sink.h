// Sink `host`: hands each batch to the embedding program's callback
// (sluice_pipeline_set_sink). It is a C plugin whose descriptor the library
// makes itself, so that the callback gets the same batch, message and
// per-record result objects, and the same retry and reject handling, as a
// sink plugin written in C.
#pragma once

#include <functional>
#include <string>

#include "sluice.h"
#include "sluice/plugin_info.h"

namespace sluice::embed {

struct HostSinkBinding {
  sluice_sink_fn callback = nullptr;
  void* user = nullptr;
};

// `binding_of` finds the callback of a sink step by name; it throws a
// config error when the host set none.
PluginInfo host_sink_plugin(std::function<HostSinkBinding*(const std::string& step)> binding_of);

}  // namespace sluice::embed
