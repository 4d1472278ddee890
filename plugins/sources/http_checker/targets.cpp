#include "targets.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <sstream>

#include "target_options.h"
#include "sluice/bounded_file.h"
#include "sluice/error.h"

namespace http_checker {

namespace {

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
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
    // Inline targets were validated by core at their own keys; what is left
    // to do is build them (their ca_file is already taken from the pipeline's directory).
    for (const auto& t : config_.targets) add_target(t, source_ + ".targets", "");
    if (config_.ca_file && !config_.ca_file->empty())
      if (auto problem = sluice::bounded_file_problem(*config_.ca_file, sluice::kMaxListFileBytes); !problem.empty())
        errors_.push_back(source_ + ".ca_file: " + problem);
    if (config_.targets_file && !config_.targets_file->empty()) load_file(*config_.targets_file);
    if (errors_.empty() && targets_.empty())
      errors_.push_back(source_ + ": no targets: set `urls`, `targets` or `targets_file`");
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

  // The same option table as inline targets, so the same checks and
  // messages, at file:line:col inside the targets file.
  void load_toml(const std::string& path, const std::string& text) {
    std::string dir = std::filesystem::path(path).parent_path().string();
    sluice::DocumentValues doc = sluice::validate_toml_document(
        targets_file_options().specs(), targets_file_options().checks(), text, path, dir);
    if (!doc.errors.empty()) {
      errors_.insert(errors_.end(), doc.errors.begin(), doc.errors.end());
      return;
    }
    for (const auto& t : targets_file_options().bind(doc.values).targets) add_target(t, path, dir);
  }

  // `ca_dir`: where the target's relative ca_file starts ("": taken as it is).
  void add_target(const TargetConfig& t, const std::string& where, const std::string& ca_dir) {
    Target target = with_defaults(t.url);
    if (t.name) target.name = *t.name;
    if (t.method) target.head = *t.method == "HEAD";
    if (t.interval) target.interval = *t.interval;
    if (t.timeout) target.timeout = *t.timeout;
    if (t.regex) target.regex = t.regex->empty() ? nullptr : regex(*t.regex, where + ": regex");
    if (!t.expect_status.empty()) {
      std::string text, error;
      for (const auto& s : t.expect_status) text += (text.empty() ? "" : ",") + s;
      if (auto set = StatusSet::parse(text, error)) target.expect_status = *set;
      else errors_.push_back(where + ": expect_status: " + error);
    }
    if (t.ca_file)
      target.ca_file = ca_dir.empty() || t.ca_file->empty() || std::filesystem::path(*t.ca_file).is_absolute()
                           ? *t.ca_file
                           : (std::filesystem::path(ca_dir) / *t.ca_file).string();
    for (const auto& [k, v] : t.headers) append_header(target, k, v);
    targets_.push_back(std::move(target));
  }

  const CheckerConfig& config_;
  std::string source_;
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

CheckerConfig with_paths_from(CheckerConfig config, const std::string& base_dir) {
  for (auto* path : {&config.targets_file, &config.ca_file})
    if (*path && !(*path)->empty() && std::filesystem::path(**path).is_relative())
      *path = (std::filesystem::path(base_dir) / **path).string();
  for (auto& target : config.targets)
    if (target.ca_file && !target.ca_file->empty() && std::filesystem::path(*target.ca_file).is_relative())
      target.ca_file = (std::filesystem::path(base_dir) / *target.ca_file).string();
  return config;
}

}  // namespace http_checker
