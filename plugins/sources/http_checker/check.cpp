#include "check.h"

#include <algorithm>
#include <new>

#include "error_class.h"

namespace http_checker {

namespace {

// Options are only set from values checked at load; a failure here means the
// libcurl build lacks a feature, which no retry fixes.
void set(CURL* easy, CURLoption option, auto value) {
  if (CURLcode rc = curl_easy_setopt(easy, option, value); rc != CURLE_OK)
    throw std::runtime_error(std::string("curl_easy_setopt: ") + curl_easy_strerror(rc));
}

double ms(curl_off_t microseconds) { return static_cast<double>(microseconds) / 1000.0; }

}  // namespace

Check::Check(const SessionSettings& settings)
    : settings_(settings), easy_(curl_easy_init()), match_data_(Regex::make_match_data()) {
  if (!easy_) throw std::bad_alloc();
  CURL* e = easy_.get();
  set(e, CURLOPT_PRIVATE, static_cast<void*>(this));
  set(e, CURLOPT_WRITEFUNCTION, &Check::on_body);
  set(e, CURLOPT_WRITEDATA, static_cast<void*>(this));
  set(e, CURLOPT_ERRORBUFFER, error_buffer_);
  set(e, CURLOPT_NOSIGNAL, 1L);
  set(e, CURLOPT_PROTOCOLS_STR, "http,https");
  set(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  set(e, CURLOPT_FOLLOWLOCATION, settings_.follow_redirects ? 1L : 0L);
  set(e, CURLOPT_MAXREDIRS, settings_.max_redirects);
  if (!settings_.user_agent.empty()) set(e, CURLOPT_USERAGENT, settings_.user_agent.c_str());
  // Remembered so that a target without ca_file after one with it gets the
  // system's bundle back.
  char* path = nullptr;
  if (curl_easy_getinfo(e, CURLINFO_CAINFO, &path) == CURLE_OK && path) default_cainfo_ = path;
  path = nullptr;
  if (curl_easy_getinfo(e, CURLINFO_CAPATH, &path) == CURLE_OK && path) default_capath_ = path;
}

void Check::set_ca(const std::string& ca_file) {
  if (ca_file == ca_current_) return;
  CURL* e = easy_.get();
  if (ca_file.empty()) {
    set(e, CURLOPT_CAINFO, default_cainfo_.empty() ? nullptr : default_cainfo_.c_str());
    set(e, CURLOPT_CAPATH, default_capath_.empty() ? nullptr : default_capath_.c_str());
  } else {
    set(e, CURLOPT_CAINFO, ca_file.c_str());
    set(e, CURLOPT_CAPATH, static_cast<const char*>(nullptr));
  }
  ca_current_ = ca_file;
}

void Check::start(const Target& target, size_t target_index) {
  target_ = &target;
  target_index_ = target_index;
  received_ = 0;
  body_cut_ = false;
  body_.clear();
  keep_body_ = target.regex && !target.head;
  error_buffer_[0] = '\0';
  result_.checked_at = std::chrono::system_clock::now();
  CURL* e = easy_.get();
  set(e, CURLOPT_URL, target.url.c_str());
  if (target.head) set(e, CURLOPT_NOBODY, 1L);
  else set(e, CURLOPT_HTTPGET, 1L);
  set(e, CURLOPT_HTTPHEADER, target.headers.get());
  set(e, CURLOPT_TIMEOUT_MS, static_cast<long>(target.timeout.count()));
  set_ca(target.ca_file);
}

size_t Check::on_body(char* data, size_t size, size_t count, void* self_ptr) {
  auto* self = static_cast<Check*>(self_ptr);
  size_t n = size * count;
  size_t room = self->settings_.max_body_bytes - std::min(self->received_, self->settings_.max_body_bytes);
  self->received_ += n;
  if (self->keep_body_) self->body_.append(data, std::min(n, room));
  if (n > room) {
    self->body_cut_ = true;
    return CURL_WRITEFUNC_ERROR;  // stop reading: the body is over the limit
  }
  return n;
}

const CheckResult& Check::finish(CURLcode code) {
  CURL* e = easy_.get();
  CheckResult& r = result_;
  r.target = target_->name;
  r.url = target_->url;
  r.head = target_->head;
  r.status = 0;
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r.status);
  curl_off_t total = 0, first_byte = 0;
  curl_easy_getinfo(e, CURLINFO_TOTAL_TIME_T, &total);
  curl_easy_getinfo(e, CURLINFO_STARTTRANSFER_TIME_T, &first_byte);
  r.response_ms = ms(total);
  r.ttfb_ms = ms(first_byte);
  r.bytes = static_cast<int64_t>(received_);
  r.regex = target_->regex ? &target_->regex->pattern() : nullptr;
  r.regex_matched = target_->regex && r.status > 0 && target_->regex->search(body_, match_data_.get());
  r.error = nullptr;
  r.error_detail.clear();
  if (code != CURLE_OK) {
    long os_errno = 0;
    curl_easy_getinfo(e, CURLINFO_OS_ERRNO, &os_errno);
    r.error = classify(code, os_errno, body_cut_);
    if (body_cut_)
      r.error_detail = "body larger than max_body_bytes (" + std::to_string(settings_.max_body_bytes) + ")";
    else
      r.error_detail = error_buffer_[0] ? error_buffer_ : curl_easy_strerror(code);
  } else if (!target_->expect_status.contains(r.status)) {
    r.error = "unexpected_status";
    r.error_detail = "status " + std::to_string(r.status) + " is not in " + target_->expect_status.text();
  }
  return r;
}

}  // namespace http_checker
