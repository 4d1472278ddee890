// The one redaction every printed text passes through: `check`'s output and
// diagnostics, and in `run` every log line (a sink installed on the logger)
// and the text of any exception main() catches. Libraries quote their input
// in errors (libpq: `missing "=" after "…"`; librdkafka: `Invalid value "…"`),
// so secrets are masked in what they say, not only in what sluice says.
#pragma once

#include <memory>
#include <set>
#include <string>

namespace spdlog::sinks {
class sink;
}

namespace sluice {

struct Secrets {
  std::set<std::string> values;  // masked wherever they appear
  // Texts no quoted fragment ("…", 3 characters or more) of which may be
  // shown: a password, and in a conninfo that does not parse, everything
  // from the password on (libpq quotes the tail it stumbled on).
  std::set<std::string> spans;
};

// Masks, with "***": the password of every URI (`scheme://user:***@host`),
// every secret value, and every double-quoted fragment that is part of a span.
std::string redact(std::string text, const Secrets& secrets);
std::string redact(std::string text, const std::set<std::string>& values);

// The secrets of this process, once its pipeline is loaded (set before any
// pipeline thread starts; safe to read from every thread).
void set_process_secrets(Secrets secrets);
// Adds to them (a program embedding sluice may load several pipelines).
void add_process_secrets(const Secrets& more);
std::string redact_process(std::string text);

// A logger sink that hands `inner` every message with redact_process applied.
std::shared_ptr<spdlog::sinks::sink> redacting_sink(std::shared_ptr<spdlog::sinks::sink> inner);

}  // namespace sluice
