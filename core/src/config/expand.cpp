#include "config/expand.h"

#include <cstdlib>

#include "sluice/bounded_file.h"

namespace sluice {

namespace {
// A secret is a regular file of at most kMaxSecretFileBytes; "" when not.
std::string read_secret_file(const std::string& path, std::string& out) {
  std::string problem;
  auto text = read_bounded_file(path, kMaxSecretFileBytes, problem);
  if (!text) return problem;
  out = std::move(*text);
  if (!out.empty() && out.back() == '\n') out.pop_back();
  if (!out.empty() && out.back() == '\r') out.pop_back();
  return "";
}
}  // namespace

Expanded expand_variables(const std::string& text) {
  Expanded r;
  r.value.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$' || i + 1 >= text.size()) {
      r.value += text[i];
      continue;
    }
    if (text[i + 1] == '$') {
      r.value += '$';
      ++i;
      continue;
    }
    if (text[i + 1] != '{') {
      r.value += text[i];
      continue;
    }
    size_t close = text.find('}', i + 2);
    if (close == std::string::npos) {
      r.error = "unterminated `${` (write `$$` for a literal `$`)";
      return r;
    }
    std::string body = text.substr(i + 2, close - i - 2);
    i = close;
    if (body.rfind("file:", 0) == 0) {
      std::string path = body.substr(5), content;
      if (std::string problem = read_secret_file(path, content); !problem.empty()) {
        r.error = "secret file: " + problem;
        return r;
      }
      r.value += content;
      r.from_secret_file = true;
      continue;
    }
    std::string name = body, fallback;
    bool has_default = false;
    if (auto sep = body.find(":-"); sep != std::string::npos) {
      name = body.substr(0, sep);
      fallback = body.substr(sep + 2);
      has_default = true;
    }
    if (name.empty()) {
      r.error = "empty variable name in `${" + body + "}`";
      return r;
    }
    const char* env = std::getenv(name.c_str());
    if (env && *env) {
      r.value += env;
    } else if (has_default) {
      r.value += fallback;
    } else {
      r.error = "environment variable `" + name + "` is not set (give a default with `${" + name +
                ":-value}`)";
      return r;
    }
  }
  return r;
}

}  // namespace sluice
