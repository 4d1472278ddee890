#include "target_options.h"

#include <filesystem>

#include "handles.h"
#include "regex.h"
#include "sluice/bounded_file.h"
#include "status_set.h"

namespace http_checker {

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

sluice::OptionCheck check_url(const std::string& url, const std::string&) { return {url_problem(url), {}, {}}; }

sluice::OptionCheck check_regex(const std::string& pattern, const std::string&) {
  std::string error;
  if (pattern.empty() || Regex::compile(pattern, error)) return {};
  return {"invalid regex: " + error, {}, {}};
}

sluice::OptionCheck check_status(const std::string& text, const std::string&) {
  std::string error;
  if (StatusSet::parse(text, error)) return {};
  return {error, {}, {}};
}

sluice::OptionCheck check_named_file(const std::string& path, const std::string& pipeline_dir) {
  if (path.empty()) return {};
  std::filesystem::path resolved = std::filesystem::path(path).is_relative() ? std::filesystem::path(pipeline_dir) / path
                                                                           : std::filesystem::path(path);
  return {sluice::bounded_file_problem(resolved.string(), sluice::kMaxListFileBytes), {}, {}};
}

const sluice::Options<TargetConfig>& target_options() {
  static const auto options = sluice::Options<TargetConfig>()
    .string("name", &TargetConfig::name, "name of the target in records (default: its URL)")
    .string("url", &TargetConfig::url, "http or https URL to check").required().validate(check_url)
    .string("method", &TargetConfig::method, "HTTP method of its checks").choices({"GET", "HEAD"})
    .string_map("headers", &TargetConfig::headers, "request headers beside the source's, name = value")
    .duration("interval", &TargetConfig::interval, "time between the starts of two of its checks")
    .duration("timeout", &TargetConfig::timeout, "longest one of its checks may take").range(1, 3'600'000)
    .string("regex", &TargetConfig::regex, "PCRE2 pattern searched in its body (\"\": none)").validate(check_regex)
    .string_list("expect_status", &TargetConfig::expect_status,
                 "accepted statuses: 200, \"200-299\" or a list of them").one_or_many().validate(check_status)
    .string("ca_file", &TargetConfig::ca_file,
            "CA certificates (PEM) for its TLS (relative: to the file it is written in)")
      .validate(check_named_file);
  return options;
}

const sluice::Options<TargetsFile>& targets_file_options() {
  static const auto options = sluice::Options<TargetsFile>().table_list(
      "targets", &TargetsFile::targets, target_options(), "the targets, one [[targets]] table each");
  return options;
}

}  // namespace http_checker
