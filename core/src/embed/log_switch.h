// Where the library's log lines go when a host embeds it: stderr, or the
// host's callback (sluice_set_log_callback). One logger for the process
// whose target can be switched while pipelines log, since spdlog's default
// logger must not be replaced under threads that use it.
#pragma once

namespace sluice::embed {

// Installs the switchable logger as spdlog's default, once, unless the
// sluice CLI installed its own (the CLI is the host then).
void ensure_logger();

}  // namespace sluice::embed
