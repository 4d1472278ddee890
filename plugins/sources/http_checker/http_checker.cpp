// Source `http_checker`: checks websites periodically and emits one record per
// check. Its option table; the work is in checker_source.cpp.
#include "checker_source.h"
#include "sluice/error.h"
#include "sluice/plugin_info.h"

using http_checker::CheckerConfig;

sluice::PluginInfo sluice_builtin_http_checker() {
  static const auto options = sluice::Options<CheckerConfig>()
    .string_list("urls", &CheckerConfig::urls, "URLs to check with this source's settings (the short form)")
    .table_list("targets", &CheckerConfig::targets, http_checker::target_options(),
                "targets written out here (`targets = [{ url = \"...\", regex = \"...\" }]` or "
                "[[sources.targets]]), with the keys of a targets file's [[targets]]")
    .string("targets_file", &CheckerConfig::targets_file,
            "file of more targets: one URL per line, or (*.toml) [[targets]] tables with per-target "
            "name, url, method, headers, interval, timeout, regex, expect_status, ca_file")
      .validate(http_checker::check_named_file)
    .duration("interval", &CheckerConfig::interval,
              "time between the starts of two checks of a target; 0s: again as soon as one ends")
      .def("30s")
    .duration("timeout", &CheckerConfig::timeout, "longest a check may take, redirects included")
      .def("10s").range(1, 3'600'000)
    .integer("concurrency", &CheckerConfig::concurrency, "most checks in flight at once").def(100).range(1, 100'000)
    .integer("threads", &CheckerConfig::threads,
             "checker threads, each running its share of the targets (and of concurrency) on one "
             "libcurl multi handle").def(1).range(1, 64)
    .string("user_agent", &CheckerConfig::user_agent, "User-Agent header of every check")
      .def("sluice-http-checker/0.1")
    .boolean("follow_redirects", &CheckerConfig::follow_redirects, "follow 3xx redirects").def(true)
    .integer("max_redirects", &CheckerConfig::max_redirects, "redirects followed before error too_many_redirects")
      .def(10).range(0, 1000)
    .integer("max_body_bytes", &CheckerConfig::max_body_bytes,
             "largest body read (and searched by regex); more is error body_too_large")
      .def(1 << 20).range(0, 1 << 30)
    .string("method", &CheckerConfig::method, "HTTP method of the checks").def("GET").choices({"GET", "HEAD"})
    .string_map("headers", &CheckerConfig::headers, "extra request headers, name = value")
    .string("regex", &CheckerConfig::regex, "PCRE2 pattern searched in the body; the record says if it matched")
      .validate(http_checker::check_regex)
    .string("expect_status", &CheckerConfig::expect_status,
            "accepted statuses, codes and ranges such as \"200-299,301\"; others are error unexpected_status")
      .def("200-399").validate(http_checker::check_status)
    .string("ca_file", &CheckerConfig::ca_file, "CA certificates (PEM) to verify TLS with, instead of the system's")
      .validate(http_checker::check_named_file)
    .duration("log_every", &CheckerConfig::log_every,
              "how often checks, failures and scheduling lag are logged; 0s: only the final summary")
      .def("10s");
  auto info = sluice::source_plugin<http_checker::CheckerSource>(
      "http_checker", "checks websites periodically: one record per check with status, timings, regex match, error",
      options);
  // For `sluice check`: reading the targets file and compiling the regexes is
  // all there is to verify without checking any site.
  info.probe = [](const sluice::OptionValues& values, const sluice::PluginContext& ctx) {
    http_checker::load_targets(http_checker::with_paths_from(options.bind(values), ctx.pipeline_dir), ctx.name);
  };
  return info;
}
