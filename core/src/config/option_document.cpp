// validate_toml_document: a plugin's own TOML file through the same option
// validation as the pipeline file, so one table serves both.
#include <set>

#include "config/option_validation.h"
#include "config/toml_fwd.h"
#include "sluice/options.h"

namespace sluice {

DocumentValues validate_toml_document(const std::vector<OptionSpec>& specs,
                                      const std::vector<OptionTableCheck>& checks, const std::string& text,
                                      const std::string& file, const std::string& base_dir) {
  DocumentValues out;
  Diagnostics diagnostics;
  toml::parse_result parsed = toml::parse(text, file);
  if (!parsed) {
    SourcePos p = pos_of(parsed.error().source());
    p.file = file;
    diagnostics.error(p, "", std::string(parsed.error().description()));
  } else {
    std::set<std::string> secret_values, secret_spans;
    ValidationScope scope{"", &diagnostics, &secret_values, &secret_spans, true, base_dir};
    out.values = validate_options(specs, parsed.table(), scope, checks);
    out.secrets.assign(secret_values.begin(), secret_values.end());
  }
  for (const auto& d : diagnostics.items())
    if (d.severity == Diagnostic::Severity::error) out.errors.push_back(format_diagnostic(d));
  return out;
}

}  // namespace sluice
