#include "sluice/options.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>

#include "sluice/plugin_info.h"

namespace sluice {

const char* to_string(OptionType type) {
  switch (type) {
    case OptionType::boolean: return "bool";
    case OptionType::integer: return "integer";
    case OptionType::number: return "number";
    case OptionType::string: return "string";
    case OptionType::duration: return "duration";
    case OptionType::string_list: return "string list";
    case OptionType::string_map: return "table";
    case OptionType::size: return "size";
    case OptionType::table: return "table of options";
    case OptionType::table_list: return "array of tables";
  }
  return "?";
}

const char* to_string(PluginKind kind) { return kind == PluginKind::source ? "source" : "sink"; }

std::optional<Milliseconds> parse_duration(const std::string& text) {
  double number = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(begin, end, number);
  if (ec != std::errc() || ptr == begin || number < 0 || !std::isfinite(number)) return std::nullopt;
  std::string unit(ptr, end);
  double ms_per_unit;
  if (unit == "ms") ms_per_unit = 1;
  else if (unit == "s") ms_per_unit = 1000;
  else if (unit == "m") ms_per_unit = 60'000;
  else if (unit == "h") ms_per_unit = 3'600'000;
  else if (unit == "d") ms_per_unit = 86'400'000;
  else return std::nullopt;
  return Milliseconds(static_cast<int64_t>(std::llround(number * ms_per_unit)));
}

std::optional<int64_t> parse_size(const std::string& text) {
  int64_t number = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(begin, end, number);
  if (ec != std::errc() || ptr == begin || number < 0) return std::nullopt;
  std::string unit(ptr, end);
  if (!unit.empty() && unit.front() == ' ') unit.erase(0, 1);  // "1 MiB"
  int64_t scale;
  if (unit.empty() || unit == "B") scale = 1;
  else if (unit == "KB" || unit == "KiB") scale = int64_t{1} << 10;
  else if (unit == "MB" || unit == "MiB") scale = int64_t{1} << 20;
  else if (unit == "GB" || unit == "GiB") scale = int64_t{1} << 30;
  else if (unit == "TB" || unit == "TiB") scale = int64_t{1} << 40;
  else return std::nullopt;
  if (number > INT64_MAX / scale) return std::nullopt;
  return number * scale;
}

namespace {
std::string format_duration(Milliseconds d) {
  int64_t ms = d.count();
  if (ms != 0 && ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms != 0 && ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms != 0 && ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::string quote(const std::string& s) { return "\"" + s + "\""; }
}  // namespace

std::string format_option_value(const OptionValue& value) {
  struct Visitor {
    std::string operator()(std::monostate) const { return ""; }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(int64_t i) const { return std::to_string(i); }
    std::string operator()(double d) const {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.15g", d);
      return buf;
    }
    std::string operator()(const std::string& s) const { return quote(s); }
    std::string operator()(Milliseconds d) const { return quote(format_duration(d)); }
    std::string operator()(const std::vector<std::string>& list) const {
      std::string out = "[";
      for (size_t i = 0; i < list.size(); ++i) out += (i ? ", " : "") + quote(list[i]);
      return out + "]";
    }
    std::string operator()(const StringMap& map) const {
      std::string out = "{";
      bool first = true;
      for (const auto& [k, v] : map) out += (first ? " " : ", ") + k + " = " + quote(v), first = false;
      return out + (first ? "}" : " }");
    }
    std::string operator()(const std::shared_ptr<const OptionTables>& nested) const {
      std::string out = "[";
      if (!nested) return out + "]";
      for (size_t i = 0; i < nested->tables.size(); ++i) {
        std::string table = "{";
        bool first = true;
        for (const auto& [k, v] : nested->tables[i])
          table += (first ? " " : ", ") + k + " = " + std::visit(*this, v), first = false;
        out += (i ? ", " : "") + table + (first ? "}" : " }");
      }
      return out + "]";
    }
  };
  return std::visit(Visitor{}, value);
}

}  // namespace sluice
