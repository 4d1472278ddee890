#include "transform/test_file.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <optional>
#include <sstream>

extern "C" {
#include <lauxlib.h>
}

#include "config/toml_fwd.h"
#include "transform/json_canonical.h"
#include "transform/lua_json.h"
#include "transform/transform_chain.h"

namespace sluice {

namespace {

namespace fs = std::filesystem;

void toml_to_json(const toml::node& node, std::string& out) {
  char buf[32];
  if (auto* table = node.as_table()) {
    out += '{';
    bool first = true;
    for (const auto& [key, value] : *table) {
      if (!first) out += ',';
      first = false;
      append_json_string(out, key.str());
      out += ':';
      toml_to_json(value, out);
    }
    out += '}';
  } else if (auto* array = node.as_array()) {
    out += '[';
    for (size_t i = 0; i < array->size(); ++i) {
      if (i) out += ',';
      toml_to_json(*array->get(i), out);
    }
    out += ']';
  } else if (auto s = node.value_exact<std::string>()) {
    append_json_string(out, *s);
  } else if (auto i = node.value_exact<int64_t>()) {
    out.append(buf, std::to_chars(buf, buf + sizeof buf, *i).ptr);
  } else if (auto d = node.value_exact<double>()) {
    if (std::isfinite(*d)) append_json_float(out, *d);
    else out += "null";  // JSON has no NaN or infinity
  } else if (auto b = node.value_exact<bool>()) {
    out += *b ? "true" : "false";
  } else {
    std::ostringstream text;  // dates and times: as TOML writes them
    node.visit([&text](const auto& v) {
      if constexpr (toml::is_date<decltype(v)> || toml::is_time<decltype(v)> || toml::is_date_time<decltype(v)>) text << v;
    });
    append_json_string(out, text.str());
  }
}

std::string canonical_or_raw(std::string_view json) {
  std::string out, error;
  if (!canonical_json(json, out, error)) return std::string(json) + "   (not valid JSON: " + error + ")";
  return out;
}

std::string indented(const std::string& text, const std::string& pad) {
  std::string out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out += pad + line + "\n";
  return out;
}

bool lua_pattern_found(LuaState& lua, const std::string& text, const std::string& pattern, std::string& error) {
  lua_State* L = lua.get();
  lua_getglobal(L, "string");
  lua_getfield(L, -1, "find");
  lua_remove(L, -2);
  lua_pushlstring(L, text.data(), text.size());
  lua_pushlstring(L, pattern.data(), pattern.size());
  int status = lua.call(2, 1);
  if (status != LUA_OK) {
    error = lua.pop_error(status);
    return false;
  }
  bool found = !lua_isnil(L, -1);
  lua_pop(L, 1);
  return found;
}

struct Expectation {
  enum class Kind { none, outputs, drop, reject } kind = Kind::none;
  std::vector<std::string> outputs;  // JSON texts
  std::string reject_pattern;
  std::optional<std::string> key;
  std::vector<std::pair<std::string, std::string>> headers;
};

// Reads what a case expects; "" or what is wrong with the case.
std::string read_expectation(const toml::table& c, Expectation& e) {
  int given = 0;
  if (const toml::node* n = c.get("output")) {
    e.outputs.emplace_back();
    toml_to_json(*n, e.outputs.back());
    ++given;
  }
  if (const toml::node* n = c.get("outputs")) {
    auto* list = n->as_array();
    if (!list) return "`outputs` must be an array of tables";
    for (const auto& item : *list) {
      e.outputs.emplace_back();
      toml_to_json(item, e.outputs.back());
    }
    ++given;
  }
  if (auto s = c["output_json"].value<std::string>()) {
    e.outputs.push_back(*s);
    ++given;
  }
  if (const toml::node* n = c.get("outputs_json")) {
    auto* list = n->as_array();
    if (!list) return "`outputs_json` must be an array of strings";
    for (const auto& item : *list) e.outputs.push_back(item.value_or(std::string()));
    ++given;
  }
  if (given) e.kind = Expectation::Kind::outputs;
  if (c["drop"].value_or(false)) e.kind = Expectation::Kind::drop, ++given;
  if (auto s = c["reject"].value<std::string>()) e.kind = Expectation::Kind::reject, e.reject_pattern = *s, ++given;
  if (given != 1) return "a case needs exactly one of output, outputs, output_json, outputs_json, drop = true, reject";
  if (auto k = c["key"].value<std::string>()) e.key = *k;
  if (auto* h = c["headers"].as_table())
    for (const auto& [name, value] : *h) e.headers.emplace_back(std::string(name.str()), value.value_or(std::string()));
  return "";
}

class FileRunner {
 public:
  FileRunner(std::string path, std::FILE* report) : path_(std::move(path)), report_(report) {}

  TestFileResult run() {
    toml::parse_result parsed = toml::parse_file(path_);
    if (!parsed) {
      auto where = parsed.error().source().begin;
      return file_error(std::to_string(where.line) + ":" + std::to_string(where.column) + ": " +
                        std::string(parsed.error().description()));
    }
    const toml::table& root = parsed.table();
    std::vector<std::string> scripts;
    if (auto s = root["script"].value<std::string>()) scripts.push_back(*s);
    if (auto* list = root["scripts"].as_array())
      for (const auto& s : *list) scripts.push_back(s.value_or(std::string()));
    if (scripts.empty()) return file_error("no `scripts` (or `script`) to test");
    fs::path dir = fs::path(path_).parent_path();
    for (auto& s : scripts) s = (fs::path(s).is_absolute() ? fs::path(s) : dir / s).lexically_normal().string();
    TransformLimits limits;
    if (auto n = root["transform_instructions"].value<int64_t>()) limits.instructions = *n;
    try {
      chain_ = std::make_unique<TransformChain>(scripts, limits);
    } catch (const std::exception& e) {
      return file_error(e.what());
    }
    std::fprintf(report_, "%s\n", path_.c_str());
    const toml::array* cases = root["cases"].as_array();
    if (!cases || cases->empty()) return file_error("no [[cases]]");
    for (size_t i = 0; i < cases->size(); ++i) {
      const toml::table* c = cases->get(i)->as_table();
      if (!c) return file_error("[[cases]] must be tables");
      run_case(*c, i + 1);
    }
    std::fprintf(report_, "  %d passed, %d failed\n", result_.passed, result_.failed);
    return result_;
  }

 private:
  TestFileResult file_error(const std::string& message) {
    std::fprintf(report_, "%s: error: %s\n", path_.c_str(), message.c_str());
    result_.file_error = true;
    return result_;
  }

  void run_case(const toml::table& c, size_t number) {
    std::string name = c["name"].value_or("case " + std::to_string(number));
    name += " (line " + std::to_string(c.source().begin.line) + ")";
    std::string input;
    if (const toml::node* n = c.get("input")) toml_to_json(*n, input);
    else input = c["input_json"].value_or(std::string());
    Expectation e;
    std::string problem = read_expectation(c, e);
    if (!problem.empty()) return fail(name, problem + "\n");

    RecordMeta meta;
    std::string topic = "test", key;
    std::vector<std::pair<std::string, std::string>> header_store;
    std::vector<HeaderView> headers;
    if (auto* m = c["meta"].as_table()) {
      topic = (*m)["topic"].value_or(topic);
      meta.partition = static_cast<int32_t>((*m)["partition"].value_or(int64_t{0}));
      meta.offset = (*m)["offset"].value_or(int64_t{0});
      if (auto k = (*m)["key"].value<std::string>()) key = *k, meta.key = key;
      if (auto t = (*m)["timestamp"].value<double>()) meta.timestamp_ms = static_cast<int64_t>(*t * 1000.0 + 0.5);
      if (auto* h = (*m)["headers"].as_table())
        for (const auto& [hn, hv] : *h) header_store.emplace_back(std::string(hn.str()), hv.value_or(std::string()));
    }
    for (const auto& [hn, hv] : header_store) headers.emplace_back(hn, hv);
    meta.topic = topic;
    meta.headers = headers;

    std::string out;
    std::vector<TransformOutput> outputs;
    TransformOutcome outcome = chain_->run(input, meta, out, outputs);
    std::string got = describe(outcome, input, out, outputs);

    if (e.kind == Expectation::Kind::drop) {
      if (outcome == TransformOutcome::drop) return pass(name);
      return fail(name, "    expected: drop\n    got:      " + got);
    }
    if (e.kind == Expectation::Kind::reject) {
      if (outcome != TransformOutcome::reject)
        return fail(name, "    expected: reject matching `" + e.reject_pattern + "` (Lua pattern)\n    got:      " + got);
      std::string error;
      if (lua_pattern_found(matcher_, chain_->reason(), e.reject_pattern, error)) return pass(name);
      if (!error.empty()) return fail(name, "    bad reject pattern `" + e.reject_pattern + "`: " + error + "\n");
      return fail(name, "    expected: reject matching `" + e.reject_pattern + "` (Lua pattern)\n    got:      " + got);
    }
    if (outcome != TransformOutcome::pass || outputs.size() != e.outputs.size()) {
      std::string expected = std::to_string(e.outputs.size()) + " record(s):\n";
      for (const auto& o : e.outputs) expected += indented(canonical_or_raw(o), "      ");
      return fail(name, "    expected: " + expected + "    got:      " + got);
    }
    std::string diffs;
    for (size_t i = 0; i < outputs.size(); ++i) {
      const TransformOutput& o = outputs[i];
      std::string want = canonical_or_raw(e.outputs[i]);
      std::string have = canonical_or_raw(o.value(out, input));
      if (want != have)
        diffs += "    record " + std::to_string(i + 1) + " differs (- expected, + got):\n" + line_diff(want, have, "      ");
      if (e.key) {
        std::string k = o.key_set ? (o.key_null ? "(none)" : out.substr(o.key_begin, o.key_end - o.key_begin))
                                  : (meta.key ? std::string(*meta.key) : "(none)");
        if (k != *e.key) diffs += "    record " + std::to_string(i + 1) + ": key is `" + k + "`, expected `" + *e.key + "`\n";
      }
      for (const auto& [hn, hv] : e.headers) {
        auto it = std::find_if(o.headers.begin(), o.headers.end(), [&name = hn](auto& h) { return h.first == name; });
        if (it == o.headers.end() || it->second != hv)
          diffs += "    record " + std::to_string(i + 1) + ": header `" + hn + "` is " +
                   (it == o.headers.end() ? "missing" : "`" + it->second + "`") + ", expected `" + hv + "`\n";
      }
    }
    if (diffs.empty()) return pass(name);
    fail(name, diffs);
  }

  std::string describe(TransformOutcome outcome, std::string_view input, const std::string& out,
                       const std::vector<TransformOutput>& outputs) {
    if (outcome == TransformOutcome::drop) return "drop\n";
    if (outcome == TransformOutcome::reject) return "reject: " + chain_->reason() + "\n";
    std::string text = std::to_string(outputs.size()) + " record(s):\n";
    for (const auto& o : outputs)
      text += indented(canonical_or_raw(o.value(out, input)), "      ");
    return text;
  }

  void pass(const std::string& name) {
    ++result_.passed;
    std::fprintf(report_, "  ok    %s\n", name.c_str());
  }
  void fail(const std::string& name, const std::string& detail) {
    ++result_.failed;
    std::fprintf(report_, "  FAIL  %s\n%s", name.c_str(), detail.c_str());
  }

  std::string path_;
  std::FILE* report_;
  std::unique_ptr<TransformChain> chain_;
  LuaState matcher_{{}, ""};
  TestFileResult result_;
};

}  // namespace

TestFileResult run_test_file(const std::string& path, std::FILE* report) {
  return FileRunner(path, report).run();
}

std::vector<std::string> find_test_files_in(const std::string& root) {
  std::vector<std::string> files;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return files;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (it->is_regular_file(ec) && name.size() > 10 && name.ends_with(".test.toml")) files.push_back(it->path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<std::string> find_test_files(const std::string& dir) {
  std::vector<std::string> files;
  for (const char* sub : {"transforms", "pipelines"})
    for (std::string& f : find_test_files_in((fs::path(dir) / sub).string()))
      files.push_back(dir == "." ? fs::path(f).lexically_relative(".").string() : std::move(f));
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace sluice
