#include "config/option_validation.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "config/expand.h"

namespace sluice {

namespace {

std::string join_key(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

std::string type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    default: return "a date/time";
  }
}

const char* expected(OptionType type) {
  switch (type) {
    case OptionType::boolean: return "a boolean (true or false)";
    case OptionType::integer: return "an integer";
    case OptionType::number: return "a number";
    case OptionType::string: return "a string";
    case OptionType::duration: return "a duration string such as \"250ms\", \"30s\" or \"5m\"";
    case OptionType::string_list: return "an array of strings";
    case OptionType::string_map: return "a table of strings";
    case OptionType::size: return "a size such as \"64MB\", \"1 MiB\" or a number of bytes";
    case OptionType::table: return "a table";
    case OptionType::table_list: return "an array of tables";
  }
  return "?";
}

std::string format_size(double bytes) {
  auto b = static_cast<int64_t>(bytes);
  const std::pair<const char*, int64_t> units[] = {{"GB", int64_t{1} << 30}, {"MB", int64_t{1} << 20},
                                                   {"KB", int64_t{1} << 10}};
  for (const auto& [unit, scale] : units)
    if (b != 0 && b % scale == 0) return std::to_string(b / scale) + unit;
  return std::to_string(b) + "B";
}

// The position of `key`'s name in `table` (the table's own when absent).
SourcePos key_pos(const toml::table& table, const std::string& key) {
  for (const auto& [k, node] : table)
    if (k.str() == key) return pos_of(k.source());
  return pos_of(table.source());
}

class Validator {
 public:
  Validator(const OptionSpec& spec, const toml::node& node, const ValidationScope& scope)
      : spec_(spec), node_(node), scope_(scope), key_(join_key(scope.key_path, spec.name)) {}

  OptionValue run() {
    switch (spec_.type) {
      case OptionType::boolean:
        if (auto v = node_.value_exact<bool>()) return *v;
        return mistyped();
      case OptionType::integer:
        if (auto v = node_.value_exact<int64_t>()) return in_range(static_cast<double>(*v)) ? OptionValue(*v) : OptionValue();
        return mistyped();
      case OptionType::number:
        if (node_.is_integer() || node_.is_floating_point()) {
          double v = *node_.value<double>();
          return in_range(v) ? OptionValue(v) : OptionValue();
        }
        return mistyped();
      case OptionType::string: return string_value(node_);
      case OptionType::duration: return duration_value();
      case OptionType::string_list: return list_value();
      case OptionType::string_map: return map_value();
      case OptionType::size: return size_value();
      case OptionType::table: return table_value();
      case OptionType::table_list: return table_list_value();
    }
    return {};
  }

 private:
  OptionValue mistyped() {
    error(pos_of(node_.source()), "expected " + std::string(expected(spec_.type)) + ", found " +
                                      type_name(node_));
    return {};
  }

  void error(SourcePos pos, std::string message, std::string hint = {}) {
    scope_.diagnostics->error(std::move(pos), key_, std::move(message), std::move(hint));
  }

  std::string bound_text(double bound) const {
    return spec_.type == OptionType::size ? format_size(bound) : format_option_value(bound);
  }

  bool in_range(double v) {
    if (spec_.min && v < *spec_.min) {
      error(pos_of(node_.source()), "must be at least " + bound_text(*spec_.min));
      return false;
    }
    if (spec_.max && v > *spec_.max) {
      error(pos_of(node_.source()), "must be at most " + bound_text(*spec_.max));
      return false;
    }
    return true;
  }

  // Expands ${...}; nullopt (after reporting) on failure.
  std::optional<std::string> expanded(const toml::node& node) {
    auto text = node.value_exact<std::string>();
    if (!text) {
      error(pos_of(node.source()), "expected a string, found " + type_name(node));
      return std::nullopt;
    }
    Expanded e = expand_variables(*text);
    if (!e.error.empty()) {
      error(pos_of(node.source()), e.error);
      return std::nullopt;
    }
    if ((spec_.secret || e.from_secret_file) && scope_.secret_values && !e.value.empty())
      scope_.secret_values->insert(e.value);
    return e.value;
  }

  OptionValue string_value(const toml::node& node) {
    auto s = expanded(node);
    if (!s) return {};
    if (!spec_.choices.empty() &&
        std::find(spec_.choices.begin(), spec_.choices.end(), *s) == spec_.choices.end()) {
      std::string allowed;
      for (const auto& c : spec_.choices) allowed += (allowed.empty() ? "" : ", ") + c;
      std::string what = spec_.secret ? "value" : "`" + *s + "`";
      std::string near = spec_.secret ? "" : nearest_word(*s, spec_.choices);
      error(pos_of(node.source()), what + " is not one of: " + allowed,
            near.empty() ? "" : "did you mean `" + near + "`?");
      return {};
    }
    if (spec_.validate && !plugin_accepts(node, *s)) return {};
    return *s;
  }

  // The plugin's own check; what it finds to hide is hidden even when the
  // value is refused, as the refusal is printed.
  bool plugin_accepts(const toml::node& node, const std::string& value) {
    OptionCheck found;
    try {
      found = spec_.validate(value, scope_.pipeline_dir);
    } catch (const std::exception& e) {
      found.problem = e.what();
    }
    if (scope_.secret_values)
      for (auto& s : found.secrets)
        if (!s.empty()) scope_.secret_values->insert(std::move(s));
    if (scope_.secret_spans)
      for (auto& s : found.secret_spans)
        if (!s.empty()) scope_.secret_spans->insert(std::move(s));
    if (found.problem.empty()) return true;
    error(pos_of(node.source()), found.problem);
    return false;
  }

  OptionValue duration_value() {
    auto s = expanded(node_);
    if (!s) return {};
    auto d = parse_duration(*s);
    if (!d) {
      error(pos_of(node_.source()), "`" + *s + "` is not " + expected(OptionType::duration));
      return {};
    }
    if (!in_range(static_cast<double>(d->count()))) return {};
    return *d;
  }

  OptionValue size_value() {
    if (auto n = node_.value_exact<int64_t>()) {
      if (*n < 0) {
        error(pos_of(node_.source()), "a size cannot be negative");
        return {};
      }
      return in_range(static_cast<double>(*n)) ? OptionValue(*n) : OptionValue();
    }
    auto s = expanded(node_);
    if (!s) return {};
    auto bytes = parse_size(*s);
    if (!bytes) {
      error(pos_of(node_.source()), "`" + *s + "` is not " + expected(OptionType::size),
            "units: B, KB, MB, GB, TB (or KiB, MiB, GiB, TiB), all powers of 1024");
      return {};
    }
    return in_range(static_cast<double>(*bytes)) ? OptionValue(*bytes) : OptionValue();
  }

  // One item of a string list; with one_or_many an integer is its text.
  std::optional<std::string> list_item(const toml::node& item) {
    if (spec_.one_or_many)
      if (auto i = item.value_exact<int64_t>()) return std::to_string(*i);
    auto s = expanded(item);
    if (s && spec_.validate && !plugin_accepts(item, *s)) return std::nullopt;
    return s;
  }

  OptionValue list_value() {
    const toml::array* arr = node_.as_array();
    if (!arr) {
      if (!spec_.one_or_many || node_.is_table() || node_.is_array()) return mistyped();
      auto s = list_item(node_);
      return s ? OptionValue(std::vector<std::string>{std::move(*s)}) : OptionValue();
    }
    std::vector<std::string> out;
    for (const auto& item : *arr) {
      auto s = list_item(item);
      if (!s) return {};
      out.push_back(std::move(*s));
    }
    return out;
  }

  // Validates a nested table against the option's own fields, at its own keys.
  std::optional<OptionValues> nested(const toml::table& table, const std::string& path) {
    ValidationScope inner = scope_;
    inner.key_path = path;
    inner.report_unknown_keys = true;
    size_t before = scope_.diagnostics->items().size();
    OptionValues values = validate_options(spec_.fields, table, inner, spec_.checks);
    if (scope_.diagnostics->items().size() != before) return std::nullopt;
    return values;
  }

  OptionValue table_value() {
    const toml::table* tbl = node_.as_table();
    if (!tbl) return mistyped();
    auto values = nested(*tbl, key_);
    if (!values) return {};
    return std::make_shared<const OptionTables>(OptionTables{{std::move(*values)}});
  }

  // Every table is checked (all problems at once); any problem refuses the list.
  OptionValue table_list_value() {
    const toml::array* arr = node_.as_array();
    if (!arr) return mistyped();
    OptionTables out;
    bool ok = true;
    for (size_t i = 0; i < arr->size(); ++i) {
      const toml::node& item = *arr->get(i);
      const toml::table* tbl = item.as_table();
      std::string path = key_ + "[" + std::to_string(i) + "]";
      if (!tbl) {
        scope_.diagnostics->error(pos_of(item.source()), path, "expected a table, found " + type_name(item));
        ok = false;
        continue;
      }
      auto values = nested(*tbl, path);
      if (!values) ok = false;
      else out.tables.push_back(std::move(*values));
    }
    if (!ok) return {};
    return std::make_shared<const OptionTables>(std::move(out));
  }

  OptionValue map_value() {
    const toml::table* tbl = node_.as_table();
    if (!tbl) return mistyped();
    StringMap out;
    for (const auto& [k, v] : *tbl) {
      std::string key(k.str());
      if (v.is_string()) {
        auto s = expanded(v);
        if (!s) return {};
        out[key] = *s;
      } else if (v.is_integer()) {
        out[key] = std::to_string(*v.value<int64_t>());
      } else if (v.is_floating_point()) {
        out[key] = format_option_value(*v.value<double>());
      } else if (v.is_boolean()) {
        out[key] = *v.value<bool>() ? "true" : "false";
      } else {
        scope_.diagnostics->error(pos_of(v.source()), key_ + "." + key,
                                  "expected a string, number or boolean, found " + type_name(v));
        return {};
      }
      // A secret written as a number (a PIN) is masked like one written as a
      // string; one of a digit or two would mask every number in the logs.
      if (spec_.secret && scope_.secret_values && (v.is_integer() || v.is_floating_point()) && out[key].size() >= 3)
        scope_.secret_values->insert(out[key]);
    }
    return out;
  }

  const OptionSpec& spec_;
  const toml::node& node_;
  const ValidationScope& scope_;
  std::string key_;
};

}  // namespace

OptionValues validate_options(const std::vector<OptionSpec>& specs, const toml::table& table,
                              const ValidationScope& scope, const std::vector<OptionTableCheck>& checks) {
  size_t problems_before = scope.diagnostics->items().size();
  OptionValues values;
  std::vector<std::string> names;
  for (const auto& s : specs) names.push_back(s.name);

  for (const auto& [key, node] : table) {
    if (!scope.report_unknown_keys) break;
    std::string k(key.str());
    if (std::find(names.begin(), names.end(), k) != names.end()) continue;
    std::string near = nearest_word(k, names);
    scope.diagnostics->error(pos_of(key.source()), join_key(scope.key_path, k), "unknown key",
                             near.empty() ? "" : "did you mean `" + near + "`?");
  }

  for (const auto& spec : specs) {
    const toml::node* node = table.get(spec.name);
    if (!node) {
      if (spec.required)
        scope.diagnostics->error(pos_of(table.source()), join_key(scope.key_path, spec.name),
                                 "missing required option");
      else if (!std::holds_alternative<std::monostate>(spec.default_value))
        values[spec.name] = spec.default_value;
      continue;
    }
    OptionValue v = Validator(spec, *node, scope).run();
    if (!std::holds_alternative<std::monostate>(v)) values[spec.name] = std::move(v);
  }
  // Cross-field checks only see a table whose every option is valid.
  if (scope.diagnostics->items().size() != problems_before) return values;
  for (const auto& check : checks) {
    OptionProblem problem;
    try {
      problem = check(values);
    } catch (const std::exception& e) {
      problem.message = e.what();
    }
    if (!problem.message.empty())
      scope.diagnostics->error(key_pos(table, problem.key), join_key(scope.key_path, problem.key),
                               problem.message);
  }
  return values;
}

}  // namespace sluice
