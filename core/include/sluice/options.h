// Option declarations: a plugin states each option once, bound to a member of
// its config struct. Validation, `sluice plugins` and the docs all read the
// same table, so they cannot drift apart.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace sluice {

// `size`: bytes, written "64MB", "1 MiB" or as an integer. `table` /
// `table_list`: a nested table (or array of tables) with its own options.
enum class OptionType { boolean, integer, number, string, duration, string_list, string_map, size, table, table_list };

const char* to_string(OptionType type);

using Milliseconds = std::chrono::milliseconds;
using StringMap = std::map<std::string, std::string>;

struct OptionTables;

// A validated value; std::monostate means "not set and no default". A size
// is an int64_t of bytes; a table or array of tables is an OptionTables.
using OptionValue = std::variant<std::monostate, bool, int64_t, double, std::string,
                                 Milliseconds, std::vector<std::string>, StringMap,
                                 std::shared_ptr<const OptionTables>>;

// Values by option name, after validation and defaults. Missing optional
// options without a default are absent.
using OptionValues = std::map<std::string, OptionValue>;

// The validated values of a nested table (one element) or array of tables.
struct OptionTables {
  std::vector<OptionValues> tables;
};

// What a cross-field check found: `key` names the option the problem is
// reported at (its position in the file); empty `message`: none.
struct OptionProblem {
  std::string key;
  std::string message;
};
using OptionTableCheck = std::function<OptionProblem(const OptionValues&)>;

// What a plugin's own check of one option's value found, without a network
// (e.g. that libpq can parse a conninfo): what `check` and `run` would both
// refuse. `problem` (empty: none) must not quote a secret.
struct OptionCheck {
  std::string problem;
  std::vector<std::string> secrets;       // also masked wherever text is printed
  std::vector<std::string> secret_spans;  // no quoted fragment ("…") of these is printed
};

// `pipeline_dir`: where relative paths in the pipeline start (see PluginContext).
using OptionValidator = std::function<OptionCheck(const std::string& value, const std::string& pipeline_dir)>;

struct OptionSpec {
  std::string name;
  OptionType type = OptionType::string;
  std::string help;
  OptionValue default_value;     // monostate: no default
  bool required = false;
  bool secret = false;           // never printed, logged or echoed in errors
  std::optional<double> min, max;
  std::vector<std::string> choices;  // allowed values of a string option
  OptionValidator validate;          // string options (each item of a string list): the plugin's own check
  bool one_or_many = false;          // string lists: one value is a list of one, integers are their text
  std::vector<OptionSpec> fields;        // table, table_list: the options of each table
  std::vector<OptionTableCheck> checks;  // table, table_list: cross-field checks of each table
};

// Parses "250ms", "30s", "5m", "1h", "2d"; nullopt when malformed.
std::optional<Milliseconds> parse_duration(const std::string& text);

// Parses "64MB", "1 MiB", "512KB", "1GB", "100B" or "4096" into bytes (KB, MB,
// GB and KiB, MiB, GiB are all powers of 1024); nullopt when malformed.
std::optional<int64_t> parse_size(const std::string& text);

// Renders a value the way it would be written in a pipeline file.
std::string format_option_value(const OptionValue& value);

// A TOML file of a plugin's own (e.g. http_checker's targets file), checked
// against an option table exactly as core checks the pipeline file.
struct DocumentValues {
  OptionValues values;
  std::vector<std::string> errors;   // "file:line:col: error: key: message (hint)"
  std::vector<std::string> secrets;  // expanded secret values: never print them
};
// `base_dir`: where the validators' relative paths start (usually the file's directory).
DocumentValues validate_toml_document(const std::vector<OptionSpec>& specs,
                                      const std::vector<OptionTableCheck>& checks, const std::string& text,
                                      const std::string& file, const std::string& base_dir);

template <class Config>
class Options {
 public:
  using Setter = std::function<void(Config&, const OptionValue&)>;

  Options& boolean(std::string name, bool Config::*member, std::string help) {
    return add(std::move(name), OptionType::boolean, std::move(help), assign<bool>(member));
  }
  Options& integer(std::string name, int64_t Config::*member, std::string help) {
    return add(std::move(name), OptionType::integer, std::move(help), assign<int64_t>(member));
  }
  Options& integer(std::string name, std::optional<int64_t> Config::*member, std::string help) {
    return add(std::move(name), OptionType::integer, std::move(help), assign<int64_t>(member));
  }
  Options& number(std::string name, double Config::*member, std::string help) {
    return add(std::move(name), OptionType::number, std::move(help), assign_number(member));
  }
  Options& number(std::string name, std::optional<double> Config::*member, std::string help) {
    return add(std::move(name), OptionType::number, std::move(help), assign_number(member));
  }
  Options& string(std::string name, std::string Config::*member, std::string help) {
    return add(std::move(name), OptionType::string, std::move(help), assign<std::string>(member));
  }
  Options& string(std::string name, std::optional<std::string> Config::*member, std::string help) {
    return add(std::move(name), OptionType::string, std::move(help), assign<std::string>(member));
  }
  Options& duration(std::string name, Milliseconds Config::*member, std::string help) {
    return add(std::move(name), OptionType::duration, std::move(help), assign<Milliseconds>(member));
  }
  Options& duration(std::string name, std::optional<Milliseconds> Config::*member, std::string help) {
    return add(std::move(name), OptionType::duration, std::move(help), assign<Milliseconds>(member));
  }
  Options& string_list(std::string name, std::vector<std::string> Config::*member, std::string help) {
    return add(std::move(name), OptionType::string_list, std::move(help),
               assign<std::vector<std::string>>(member));
  }
  Options& string_map(std::string name, StringMap Config::*member, std::string help) {
    return add(std::move(name), OptionType::string_map, std::move(help), assign<StringMap>(member));
  }
  Options& size(std::string name, int64_t Config::*member, std::string help) {
    return add(std::move(name), OptionType::size, std::move(help), assign<int64_t>(member));
  }
  Options& size(std::string name, std::optional<int64_t> Config::*member, std::string help) {
    return add(std::move(name), OptionType::size, std::move(help), assign<int64_t>(member));
  }
  // A nested table, validated by `inner` at its own keys, bound into `member`.
  template <class Inner>
  Options& table(std::string name, Inner Config::*member, const Options<Inner>& inner, std::string help) {
    add(std::move(name), OptionType::table, std::move(help),
        [member, inner](Config& c, const OptionValue& v) {
          const auto& tables = std::get<std::shared_ptr<const OptionTables>>(v)->tables;
          if (!tables.empty()) c.*member = inner.bind(tables.front());
        });
    return nest(inner);
  }
  // An array of tables (`key = [{...}]` or `[[parent.key]]`), each validated by `inner`.
  template <class Inner>
  Options& table_list(std::string name, std::vector<Inner> Config::*member, const Options<Inner>& inner,
                      std::string help) {
    add(std::move(name), OptionType::table_list, std::move(help),
        [member, inner](Config& c, const OptionValue& v) {
          (c.*member).clear();
          for (const auto& t : std::get<std::shared_ptr<const OptionTables>>(v)->tables)
            (c.*member).push_back(inner.bind(t));
        });
    return nest(inner);
  }

  // A check over the whole bound struct (e.g. one option needs another), run
  // when every option of the table is valid; the problem is reported at the
  // position of the key it names (the table's when that key is not written).
  Options& check(std::function<OptionProblem(const Config&)> rule) {
    checks_.push_back([rule, self = *this](const OptionValues& values) { return rule(self.bind(values)); });
    return *this;
  }

  // Modifiers of the option declared last.
  Options& required() { return last().required = true, *this; }
  Options& secret() { return last().secret = true, *this; }
  Options& range(double lo, double hi) { return last().min = lo, last().max = hi, *this; }
  Options& at_least(double lo) { return last().min = lo, *this; }
  Options& choices(std::vector<std::string> allowed) { return last().choices = std::move(allowed), *this; }
  Options& one_or_many() { return last().one_or_many = true, *this; }
  Options& validate(OptionValidator check) { return last().validate = std::move(check), *this; }
  Options& def(bool v) { return set_default(v); }
  Options& def(int v) { return set_default(static_cast<int64_t>(v)); }
  Options& def(int64_t v) { return set_default(v); }
  Options& def(double v) { return set_default(v); }
  Options& def(const char* v) {
    if (last().type == OptionType::duration) {
      auto d = parse_duration(v);
      if (!d) throw std::logic_error("bad default duration for option " + last().name);
      return set_default(*d);
    }
    if (last().type == OptionType::size) {
      auto bytes = parse_size(v);
      if (!bytes) throw std::logic_error("bad default size for option " + last().name);
      return set_default(*bytes);
    }
    return set_default(std::string(v));
  }

  const std::vector<OptionSpec>& specs() const { return specs_; }
  const std::vector<OptionTableCheck>& checks() const { return checks_; }

  // Every option's default (one without a default keeps the struct's own
  // initial value): the table is where defaults are written, once.
  Config defaults() const {
    Config config{};
    for (size_t i = 0; i < specs_.size(); ++i)
      if (!std::holds_alternative<std::monostate>(specs_[i].default_value)) setters_[i](config, specs_[i].default_value);
    return config;
  }

  // Fills a config from validated values; an option absent from `values`, or
  // refused there, keeps its default.
  Config bind(const OptionValues& values) const {
    Config config = defaults();
    for (size_t i = 0; i < specs_.size(); ++i) {
      auto it = values.find(specs_[i].name);
      if (it != values.end() && !std::holds_alternative<std::monostate>(it->second))
        setters_[i](config, it->second);
    }
    return config;
  }

 private:
  template <class T, class Member>
  static Setter assign(Member member) {
    return [member](Config& c, const OptionValue& v) { c.*member = std::get<T>(v); };
  }
  // An integer written where a number is expected is still a number.
  template <class Member>
  static Setter assign_number(Member member) {
    return [member](Config& c, const OptionValue& v) {
      c.*member = std::holds_alternative<int64_t>(v) ? static_cast<double>(std::get<int64_t>(v))
                                                     : std::get<double>(v);
    };
  }
  Options& add(std::string name, OptionType type, std::string help, Setter setter) {
    OptionSpec spec;
    spec.name = std::move(name);
    spec.type = type;
    spec.help = std::move(help);
    specs_.push_back(std::move(spec));
    setters_.push_back(std::move(setter));
    return *this;
  }
  OptionSpec& last() {
    if (specs_.empty()) throw std::logic_error("option modifier before any option");
    return specs_.back();
  }
  Options& set_default(OptionValue v) { return last().default_value = std::move(v), *this; }
  template <class Inner>
  Options& nest(const Options<Inner>& inner) {
    last().fields = inner.specs();
    last().checks = inner.checks();
    return *this;
  }

  std::vector<OptionSpec> specs_;
  std::vector<Setter> setters_;
  // Each check holds a copy of the table as it was when the check was added
  // (enough to bind every option declared before it).
  std::vector<OptionTableCheck> checks_;
};

}  // namespace sluice
