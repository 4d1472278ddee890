#include "targets.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <sstream>

#ifndef TOML_EXCEPTIONS
#define TOML_EXCEPTIONS 0
#endif
#ifndef TOML_HEADER_ONLY
#define TOML_HEADER_ONLY 0
#endif
#include <toml++/toml.h>

#include "sluice/bounded_file.h"
#include "sluice/error.h"

namespace http_checker {

namespace {

const std::vector<std::string> kTargetKeys = {"name",    "url",   "method",        "headers", "interval",
                                              "timeout", "regex", "expect_status", "ca_file"};

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

// A check can only ever be about http(s); anything else is a typo to report now.
std::string url_problem(const std::string& url) {
  CurlUrl u(curl_url());
  if (!u) return "out of memory";
  if (curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK)
    return "`" + url + "` is not a valid URL";
  char* scheme = nullptr;
  if (curl_url_get(u.get(), CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) return "`" + url + "` has no scheme";
  std::string s(scheme);
  curl_free(scheme);
  if (s != "http" && s != "https") return "`" + url + "`: only http and https URLs can be checked";
  return {};
}

class Loader {
 public:
  Loader(const CheckerConfig& config, const std::string& source_name)
      : config_(config), source_(source_name) {}

  std::vector<Target> load() {
    // The source-level values have no position here: the pipeline file is
    // core's, so they are named by source and key.
    defaults_regex_ = config_.regex ? regex(*config_.regex, source_ + ".regex") : nullptr;
    std::string error;
    if (auto s = StatusSet::parse(config_.expect_status, error)) defaults_status_ = *s;
    else errors_.push_back(source_ + ".expect_status: " + error);
    if (config_.method != "GET" && config_.method != "HEAD")
      errors_.push_back(source_ + ".method: `" + config_.method + "` is not GET or HEAD");
    for (size_t i = 0; i < config_.urls.size(); ++i)
      add_default(config_.urls[i], source_ + ".urls[" + std::to_string(i) + "]");
    if (config_.ca_file && !config_.ca_file->empty())
      if (auto problem = sluice::bounded_file_problem(*config_.ca_file, sluice::kMaxListFileBytes); !problem.empty())
        errors_.push_back(source_ + ".ca_file: " + problem);
    if (config_.targets_file && !config_.targets_file->empty()) load_file(*config_.targets_file);
    if (errors_.empty() && targets_.empty())
      errors_.push_back(source_ + ": no targets: set `urls` or `targets_file`");
    if (!errors_.empty()) {
      std::string message;
      for (const auto& e : errors_) message += (message.empty() ? "" : "\n") + e;
      throw sluice::Error(sluice::ErrorClass::config, message);
    }
    return std::move(targets_);
  }

 private:
  std::shared_ptr<const Regex> regex(const std::string& pattern, const std::string& where) {
    if (auto it = regexes_.find(pattern); it != regexes_.end()) return it->second;
    std::string error;
    auto compiled = Regex::compile(pattern, error);
    if (!compiled) {
      errors_.push_back(where + ": invalid regex: " + error);
      return nullptr;
    }
    regexes_.emplace(pattern, compiled);
    return compiled;
  }

  Target with_defaults(const std::string& url) {
    Target t;
    t.name = url;
    t.url = url;
    t.head = config_.method == "HEAD";
    t.interval = config_.interval;
    t.timeout = config_.timeout;
    t.regex = defaults_regex_;
    t.expect_status = defaults_status_;
    t.ca_file = config_.ca_file.value_or("");
    for (const auto& [k, v] : config_.headers) append_header(t, k, v);
    return t;
  }

  static void append_header(Target& t, const std::string& name, const std::string& value) {
    // An empty value would make curl drop the header; "Name;" sends it empty.
    std::string line = value.empty() ? name + ";" : name + ": " + value;
    curl_slist* list = curl_slist_append(t.headers.get(), line.c_str());
    if (!list) throw std::bad_alloc();
    (void)t.headers.release();
    t.headers.reset(list);
  }

  void add_default(const std::string& url, const std::string& where) {
    if (auto problem = url_problem(url); !problem.empty()) {
      errors_.push_back(where + ": " + problem);
      return;
    }
    targets_.push_back(with_defaults(url));
  }

  void load_file(const std::string& path) {
    bool toml_file = path.size() > 5 && path.compare(path.size() - 5, 5, ".toml") == 0;
    std::string problem;
    std::optional<std::string> text = sluice::read_bounded_file(path, sluice::kMaxListFileBytes, problem);
    if (!text) {
      errors_.push_back(source_ + ".targets_file: cannot read the targets file: " + problem);
      return;
    }
    if (toml_file) return load_toml(path, *text);
    std::istringstream in(*text);
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
      std::string url = trim(line);
      if (url.empty() || url[0] == '#') continue;
      int col = static_cast<int>(line.find(url[0])) + 1;
      add_default(url, path + ":" + std::to_string(n) + ":" + std::to_string(col) + ": error");
    }
  }

  std::string at(const toml::source_region& r, const std::string& key) const {
    return file_ + ":" + std::to_string(r.begin.line) + ":" + std::to_string(r.begin.column) +
           ": error: " + key;
  }

  void load_toml(const std::string& path, const std::string& text) {
    file_ = path;
    toml::parse_result parsed = toml::parse(text, path);
    if (!parsed) {
      const auto& err = parsed.error();
      errors_.push_back(at(err.source(), "") + std::string(err.description()));
      return;
    }
    const toml::table& root = parsed.table();
    for (const auto& [key, node] : root)
      if (key.str() != "targets") errors_.push_back(at(key.source(), std::string(key.str())) + ": unknown key (expected [[targets]])");
    const toml::node* list = root.get("targets");
    if (!list) return;
    const toml::array* arr = list->as_array();
    if (!arr || !arr->is_array_of_tables()) {
      errors_.push_back(at(list->source(), "targets") + ": expected an array of tables ([[targets]])");
      return;
    }
    for (size_t i = 0; i < arr->size(); ++i)
      load_target(*arr->get(i)->as_table(), "targets[" + std::to_string(i) + "]");
  }

  std::optional<std::string> string_at(const toml::table& t, const std::string& key, const std::string& path) {
    const toml::node* n = t.get(key);
    if (!n) return std::nullopt;
    if (auto s = n->value_exact<std::string>()) return *s;
    errors_.push_back(at(n->source(), path + "." + key) + ": expected a string");
    return std::nullopt;
  }

  std::optional<std::chrono::milliseconds> duration_at(const toml::table& t, const std::string& key,
                                                       const std::string& path) {
    auto s = string_at(t, key, path);
    if (!s) return std::nullopt;
    auto d = sluice::parse_duration(*s);
    if (!d) errors_.push_back(at(t.get(key)->source(), path + "." + key) + ": `" + *s +
                              "` is not a duration such as \"250ms\", \"30s\" or \"5m\"");
    return d;
  }

  std::optional<StatusSet> status_at(const toml::node& n, const std::string& key) {
    std::string text;
    if (auto s = n.value_exact<std::string>()) text = *s;
    else if (auto i = n.value_exact<int64_t>()) text = std::to_string(*i);
    else if (const toml::array* a = n.as_array()) {
      for (const auto& item : *a) {
        auto v = item.value_exact<int64_t>();
        auto s = item.value_exact<std::string>();
        if (!v && !s) {
          errors_.push_back(at(item.source(), key) + ": expected status codes or ranges");
          return std::nullopt;
        }
        text += (text.empty() ? "" : ",") + (v ? std::to_string(*v) : *s);
      }
    } else {
      errors_.push_back(at(n.source(), key) + ": expected 200, \"200-299\" or a list of them");
      return std::nullopt;
    }
    std::string error;
    auto set = StatusSet::parse(text, error);
    if (!set) errors_.push_back(at(n.source(), key) + ": " + error);
    return set;
  }

  void load_target(const toml::table& t, const std::string& path) {
    size_t errors_before = errors_.size();
    for (const auto& [key, node] : t)
      if (std::find(kTargetKeys.begin(), kTargetKeys.end(), std::string(key.str())) == kTargetKeys.end())
        errors_.push_back(at(key.source(), path + "." + std::string(key.str())) + ": unknown key");
    auto url = string_at(t, "url", path);
    if (!url) {
      if (!t.get("url")) errors_.push_back(at(t.source(), path + ".url") + ": missing required key");
      return;
    }
    if (auto problem = url_problem(*url); !problem.empty())
      errors_.push_back(at(t.get("url")->source(), path + ".url") + ": " + problem);
    Target target = with_defaults(*url);
    if (auto name = string_at(t, "name", path)) target.name = *name;
    if (auto method = string_at(t, "method", path)) {
      if (*method != "GET" && *method != "HEAD")
        errors_.push_back(at(t.get("method")->source(), path + ".method") + ": `" + *method + "` is not GET or HEAD");
      target.head = *method == "HEAD";
    }
    if (auto d = duration_at(t, "interval", path)) target.interval = *d;
    if (auto d = duration_at(t, "timeout", path)) target.timeout = *d;
    if (target.timeout.count() <= 0)
      errors_.push_back(at(t.source(), path + ".timeout") + ": must be more than 0s");
    if (auto pattern = string_at(t, "regex", path))
      target.regex = pattern->empty() ? nullptr : regex(*pattern, at(t.get("regex")->source(), path + ".regex"));
    if (const toml::node* n = t.get("expect_status"))
      if (auto set = status_at(*n, path + ".expect_status")) target.expect_status = *set;
    // Relative to the targets file, as the targets file is to the pipeline.
    if (auto ca = string_at(t, "ca_file", path))
      target.ca_file = ca->empty() || std::filesystem::path(*ca).is_absolute()
                           ? *ca
                           : (std::filesystem::path(file_).parent_path() / *ca).string();
    if (!target.ca_file.empty())
      if (auto problem = sluice::bounded_file_problem(target.ca_file, sluice::kMaxListFileBytes); !problem.empty())
        errors_.push_back(at(t.get("ca_file")->source(), path + ".ca_file") + ": " + problem);
    if (const toml::node* h = t.get("headers")) {
      const toml::table* headers = h->as_table();
      if (!headers) errors_.push_back(at(h->source(), path + ".headers") + ": expected a table of strings");
      else
        for (const auto& [k, v] : *headers) {
          auto value = v.value_exact<std::string>();
          if (!value) errors_.push_back(at(v.source(), path + ".headers." + std::string(k.str())) + ": expected a string");
          else append_header(target, std::string(k.str()), *value);
        }
    }
    if (errors_.size() == errors_before) targets_.push_back(std::move(target));
  }

  const CheckerConfig& config_;
  std::string source_;
  std::string file_;
  std::shared_ptr<const Regex> defaults_regex_;
  StatusSet defaults_status_;
  std::map<std::string, std::shared_ptr<const Regex>> regexes_;
  std::vector<Target> targets_;
  std::vector<std::string> errors_;
};

}  // namespace

std::vector<Target> load_targets(const CheckerConfig& config, const std::string& source_name) {
  return Loader(config, source_name).load();
}

sluice::OptionCheck check_named_file(const std::string& path, const std::string& pipeline_dir) {
  if (path.empty()) return {};
  std::filesystem::path resolved = std::filesystem::path(path).is_relative() ? std::filesystem::path(pipeline_dir) / path
                                                                           : std::filesystem::path(path);
  return {sluice::bounded_file_problem(resolved.string(), sluice::kMaxListFileBytes), {}, {}};
}

CheckerConfig with_paths_from(CheckerConfig config, const std::string& base_dir) {
  for (auto* path : {&config.targets_file, &config.ca_file})
    if (*path && !(*path)->empty() && std::filesystem::path(**path).is_relative())
      *path = (std::filesystem::path(base_dir) / **path).string();
  return config;
}

}  // namespace http_checker
