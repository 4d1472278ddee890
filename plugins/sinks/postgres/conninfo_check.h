// The conninfo, judged as libpq will judge it at connect, before anything
// connects: `check` refuses what `run` would, and whatever libpq would quote
// of it is known to be secret.
#pragma once

#include <string>

#include "sluice/options.h"

namespace pgsink {

// The problem libpq finds (its quoted fragments masked: they may be part of
// the password), and the password in every form it may be printed in.
sluice::OptionCheck check_conninfo(const std::string& conninfo, const std::string& pipeline_dir = {});

}  // namespace pgsink
