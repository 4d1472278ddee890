#include "config/redaction.h"

#include <algorithm>
#include <mutex>
#include <vector>

#include <spdlog/sinks/sink.h>

namespace sluice {

namespace {

constexpr std::string_view kMask = "***";
constexpr size_t kShortestMaskedFragment = 3;

// `scheme://user:password@host/...`: the password, whatever else is known.
void mask_uri_passwords(std::string& text) {
  for (size_t scheme = text.find("://"); scheme != std::string::npos; scheme = text.find("://", scheme + 3)) {
    size_t start = scheme + 3;
    size_t end = text.find_first_of("/?# \t\r\n\"'`", start);
    if (end == std::string::npos) end = text.size();
    size_t at = text.rfind('@', end == 0 ? 0 : end - 1);
    if (at == std::string::npos || at < start) continue;
    size_t colon = text.find(':', start);
    if (colon == std::string::npos || colon >= at) continue;
    if (std::string_view(text).substr(colon + 1, at - colon - 1) == kMask) continue;
    text.replace(colon + 1, at - colon - 1, kMask);
  }
}

void mask_values(std::string& text, const std::set<std::string>& values) {
  // Longest first: a secret that contains another is masked whole.
  std::vector<const std::string*> ordered;
  for (const auto& v : values)
    if (!v.empty()) ordered.push_back(&v);
  std::sort(ordered.begin(), ordered.end(), [](auto* a, auto* b) { return a->size() > b->size(); });
  for (const std::string* secret : ordered)
    for (size_t at = text.find(*secret); at != std::string::npos; at = text.find(*secret, at + kMask.size()))
      text.replace(at, secret->size(), kMask);
}

void mask_quoted_fragments(std::string& text, const std::set<std::string>& spans) {
  if (spans.empty()) return;
  for (size_t open = text.find('"'); open != std::string::npos;) {
    size_t close = text.find('"', open + 1);
    if (close == std::string::npos) break;
    std::string_view inside = std::string_view(text).substr(open + 1, close - open - 1);
    bool masked = inside.size() >= kShortestMaskedFragment && inside != kMask &&
                  std::any_of(spans.begin(), spans.end(),
                              [&](const std::string& span) { return span.find(inside) != std::string::npos; });
    if (masked) {
      text.replace(open + 1, inside.size(), kMask);
      close = open + 1 + kMask.size();
    }
    open = text.find('"', close + 1);
  }
}

std::mutex process_mutex;
std::shared_ptr<const Secrets> process_secrets = std::make_shared<Secrets>();

class RedactingSink : public spdlog::sinks::sink {
 public:
  explicit RedactingSink(std::shared_ptr<spdlog::sinks::sink> inner) : inner_(std::move(inner)) {}
  void log(const spdlog::details::log_msg& msg) override {
    std::string text = redact_process(std::string(msg.payload.data(), msg.payload.size()));
    spdlog::details::log_msg copy = msg;
    copy.payload = spdlog::string_view_t(text.data(), text.size());
    inner_->log(copy);
  }
  void flush() override { inner_->flush(); }
  void set_pattern(const std::string& pattern) override { inner_->set_pattern(pattern); }
  void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override {
    inner_->set_formatter(std::move(formatter));
  }

 private:
  std::shared_ptr<spdlog::sinks::sink> inner_;
};

}  // namespace

std::string redact(std::string text, const Secrets& secrets) {
  mask_uri_passwords(text);
  mask_values(text, secrets.values);
  mask_quoted_fragments(text, secrets.spans);
  return text;
}

std::string redact(std::string text, const std::set<std::string>& values) {
  return redact(std::move(text), Secrets{values, {}});
}

void set_process_secrets(Secrets secrets) {
  auto shared = std::make_shared<const Secrets>(std::move(secrets));
  std::lock_guard lock(process_mutex);
  process_secrets = std::move(shared);
}

void add_process_secrets(const Secrets& more) {
  std::lock_guard lock(process_mutex);
  auto merged = std::make_shared<Secrets>(*process_secrets);
  merged->values.insert(more.values.begin(), more.values.end());
  merged->spans.insert(more.spans.begin(), more.spans.end());
  process_secrets = std::move(merged);
}

std::string redact_process(std::string text) {
  std::shared_ptr<const Secrets> secrets;
  {
    std::lock_guard lock(process_mutex);
    secrets = process_secrets;
  }
  return redact(std::move(text), *secrets);
}

std::shared_ptr<spdlog::sinks::sink> redacting_sink(std::shared_ptr<spdlog::sinks::sink> inner) {
  return std::make_shared<RedactingSink>(std::move(inner));
}

}  // namespace sluice
