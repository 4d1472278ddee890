// The source: schedules the targets, runs their checks on one thread through
// libcurl's multi interface, and emits one record per check, keyed by URL.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "check.h"
#include "checker_config.h"
#include "counters.h"
#include "sluice/plugin_info.h"
#include "targets.h"

namespace http_checker {

class CheckerSource : public sluice::Source {
 public:
  CheckerSource(const CheckerConfig& config, const sluice::PluginContext& ctx);
  void run(sluice::Emitter& emitter) override;
  const Counters& counters() const { return counters_; }

 private:
  void log_progress(double elapsed_s, bool final) const;

  CheckerConfig config_;
  std::string name_;
  std::vector<Target> targets_;
  SessionSettings session_;
  Counters counters_;
};

}  // namespace http_checker
