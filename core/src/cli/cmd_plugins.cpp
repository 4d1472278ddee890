// `sluice plugins`: every plugin and its options, printed from the same
// option tables that validate pipeline files.
#include <cstdio>

#include "cli/commands.h"
#include "cli/load.h"
#include "run/pipeline_runner.h"

namespace sluice::cli {

namespace {

std::string default_text(const OptionSpec& spec) {
  if (spec.required) return "required";
  if (std::holds_alternative<std::monostate>(spec.default_value)) return "-";
  return format_option_value(spec.default_value);
}

std::string help_text(const OptionSpec& spec) {
  std::string help = spec.help;
  if (!spec.choices.empty()) {
    help += " (one of:";
    for (const auto& c : spec.choices) help += " " + c;
    help += ")";
  }
  if (spec.min || spec.max) {
    help += " [" + (spec.min ? format_option_value(*spec.min) : std::string()) + ".." +
            (spec.max ? format_option_value(*spec.max) : std::string()) + "]";
  }
  if (spec.secret) help += " (secret: never printed)";
  return help;
}

// A nested table's options follow its own row, named `parent[].key`
// (`parent.key` for a single table), so the reference shows them too.
std::vector<OptionSpec> flattened(const std::vector<OptionSpec>& specs, const std::string& prefix = "") {
  std::vector<OptionSpec> out;
  for (const auto& s : specs) {
    OptionSpec row = s;
    row.name = prefix + s.name;
    row.fields.clear();
    out.push_back(row);
    if (s.fields.empty()) continue;
    auto inner = flattened(s.fields, row.name + (s.type == OptionType::table_list ? "[]." : "."));
    out.insert(out.end(), inner.begin(), inner.end());
  }
  return out;
}

void print_table(const std::string& title, const std::string& help, const std::vector<OptionSpec>& specs,
                 bool markdown) {
  if (markdown) {
    std::printf("#### %s\n\n%s\n\n", title.c_str(), help.c_str());
    if (specs.empty()) {
      std::printf("No options.\n\n");
      return;
    }
    std::printf("| option | type | default | meaning |\n|---|---|---|---|\n");
    for (const auto& s : specs)
      std::printf("| `%s` | %s | %s | %s |\n", s.name.c_str(), to_string(s.type),
                  default_text(s).c_str(), help_text(s).c_str());
    std::printf("\n");
    return;
  }
  std::printf("%s\n    %s\n", title.c_str(), help.c_str());
  for (const auto& s : specs)
    std::printf("    %-18s %-12s %-12s %s\n", s.name.c_str(), to_string(s.type), default_text(s).c_str(),
                help_text(s).c_str());
  std::printf("\n");
}

}  // namespace

void add_plugins(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  auto* cmd = app.add_subcommand("plugins", "list every plugin with its options, types, defaults and help");
  auto markdown = std::make_shared<bool>(false);
  cmd->add_flag("--markdown", *markdown, "print Markdown tables (the README's reference is made this way)");
  cmd->callback([&global, &exit_code, markdown] {
    PluginRegistry registry;
    bool ok = load_registry(registry, global);
    for (PluginKind kind : {PluginKind::source, PluginKind::sink}) {
      for (const auto& p : registry.all()) {
        if (p->kind != kind) continue;
        std::string title = std::string(to_string(kind)) + " `" + p->name + "`";
        if (p->origin != "built-in") title += " (" + p->origin + ")";
        print_table(title, p->help, flattened(p->options), *markdown);
      }
    }
    print_table("options of every source", "name, type and topic, beside the plugin's own",
                source_common_options().specs(), *markdown);
    print_table("options of every sink", "name, type and topic, beside the plugin's own",
                sink_common_options().specs(), *markdown);
    print_table("[kafka]", "how to reach Kafka", kafka_options().specs(), *markdown);
    print_table("[http]", "the metrics, health and status endpoints", http_options().specs(), *markdown);
    exit_code = ok ? kExitOk : kExitConfig;
  });
}

}  // namespace sluice::cli
