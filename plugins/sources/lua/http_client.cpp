#include "http_client.h"

#include <curl/curl.h>

#include <cctype>
#include <cstring>
#include <mutex>
#include <stdexcept>

namespace lua_source {

namespace {

struct CurlEasyFree { void operator()(CURL* h) const { curl_easy_cleanup(h); } };
struct CurlSlistFree { void operator()(curl_slist* l) const { curl_slist_free_all(l); } };
struct CurlUrlFree { void operator()(CURLU* u) const { curl_url_cleanup(u); } };
using CurlEasy = std::unique_ptr<CURL, CurlEasyFree>;
using CurlSlist = std::unique_ptr<curl_slist, CurlSlistFree>;
using CurlUrl = std::unique_ptr<CURLU, CurlUrlFree>;

void set(CURL* easy, CURLoption option, auto value) {
  if (CURLcode rc = curl_easy_setopt(easy, option, value); rc != CURLE_OK)
    throw std::runtime_error(std::string("libcurl refused an option: ") + curl_easy_strerror(rc));
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string url_problem(const std::string& url) {
  CurlUrl u(curl_url());
  if (!u) return "out of memory";
  if (curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return "not a valid URL";
  char* scheme = nullptr;
  if (curl_url_get(u.get(), CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK || !scheme) return "a URL without a scheme";
  const std::string s = lower(scheme);
  curl_free(scheme);
  if (s != "http" && s != "https") return "only http and https URLs are allowed, not " + s;
  return "";
}

void add_header_line(std::string_view line, std::map<std::string, std::string>& headers) {
  if (line.starts_with("HTTP/")) {
    headers.clear();
    return;
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return;
  std::string name = lower(trim(line.substr(0, colon)));
  std::string_view value = trim(line.substr(colon + 1));
  auto [it, inserted] = headers.try_emplace(std::move(name), value);
  if (!inserted) it->second.append(", ").append(value);
}

struct HttpClient::Impl {
  size_t max_bytes;
  std::string ca_file;
  CurlEasy easy;
  char error_buffer[CURL_ERROR_SIZE] = {};
  HttpResponse* response = nullptr;
  bool too_large = false;
  const std::function<bool()>* stopping = nullptr;
  bool stopped = false;

  static size_t on_body(char* data, size_t size, size_t count, void* self_ptr) {
    auto* self = static_cast<Impl*>(self_ptr);
    const size_t n = size * count;
    if (self->response->body.size() + n > self->max_bytes) {
      self->too_large = true;
      return CURL_WRITEFUNC_ERROR;
    }
    try {
      self->response->body.append(data, n);
    } catch (...) {
      return CURL_WRITEFUNC_ERROR;
    }
    return n;
  }
  static size_t on_header(char* data, size_t size, size_t count, void* self_ptr) {
    auto* self = static_cast<Impl*>(self_ptr);
    try {
      add_header_line({data, size * count}, self->response->headers);
    } catch (...) {
      return 0;
    }
    return size * count;
  }
  static int on_progress(void* self_ptr, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    auto* self = static_cast<Impl*>(self_ptr);
    if (self->stopping && (*self->stopping)()) {
      self->stopped = true;
      return 1;  // aborts the transfer
    }
    return 0;
  }
};

HttpClient::HttpClient(size_t max_bytes, std::string ca_file) : impl_(std::make_unique<Impl>()) {
  static std::once_flag global;
  std::call_once(global, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  impl_->max_bytes = max_bytes;
  impl_->ca_file = std::move(ca_file);
  impl_->easy.reset(curl_easy_init());
  if (!impl_->easy) throw std::runtime_error("cannot create a libcurl handle");
}

HttpClient::~HttpClient() = default;

bool HttpClient::perform(const HttpRequest& request, const std::function<bool()>& stopping, HttpResponse& response,
                         std::string& error) noexcept {
  Impl& s = *impl_;
  CURL* e = s.easy.get();
  response.status = 0;
  response.headers.clear();
  response.body.clear();
  s.response = &response;
  s.too_large = false;
  s.stopped = false;
  s.stopping = &stopping;
  s.error_buffer[0] = '\0';
  try {
    if (std::string problem = url_problem(request.url); !problem.empty()) {
      error = problem;
      return false;
    }
    CurlSlist headers;
    for (const auto& [name, value] : request.headers) {
      const std::string line = value.empty() ? name + ";" : name + ": " + value;  // "name;": an empty header
      curl_slist* next = curl_slist_append(headers.get(), line.c_str());
      if (!next) throw std::bad_alloc();
      headers.release();
      headers.reset(next);
    }
    curl_easy_reset(e);  // keeps the connection cache
    set(e, CURLOPT_URL, request.url.c_str());
    set(e, CURLOPT_NOSIGNAL, 1L);
    set(e, CURLOPT_PROTOCOLS_STR, "http,https");
    set(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    set(e, CURLOPT_FOLLOWLOCATION, 1L);
    set(e, CURLOPT_MAXREDIRS, 5L);
    set(e, CURLOPT_SSL_VERIFYPEER, 1L);
    set(e, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!s.ca_file.empty()) set(e, CURLOPT_CAINFO, s.ca_file.c_str());
    set(e, CURLOPT_USERAGENT, "sluice-lua-source/0.1");
    set(e, CURLOPT_ACCEPT_ENCODING, "");  // whatever libcurl can decode
    set(e, CURLOPT_ERRORBUFFER, s.error_buffer);
    set(e, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
    set(e, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(s.max_bytes));
    set(e, CURLOPT_WRITEFUNCTION, &Impl::on_body);
    set(e, CURLOPT_WRITEDATA, static_cast<void*>(&s));
    set(e, CURLOPT_HEADERFUNCTION, &Impl::on_header);
    set(e, CURLOPT_HEADERDATA, static_cast<void*>(&s));
    set(e, CURLOPT_NOPROGRESS, 0L);
    set(e, CURLOPT_XFERINFOFUNCTION, &Impl::on_progress);
    set(e, CURLOPT_XFERINFODATA, static_cast<void*>(&s));
    if (headers) set(e, CURLOPT_HTTPHEADER, headers.get());
    if (request.method == "HEAD") {
      set(e, CURLOPT_NOBODY, 1L);
    } else if (request.method != "GET" || request.has_body) {
      set(e, CURLOPT_CUSTOMREQUEST, request.method.c_str());
      if (request.has_body || request.method == "POST" || request.method == "PUT") {
        set(e, CURLOPT_POSTFIELDS, request.body.data());
        set(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
      }
    }
    const CURLcode rc = curl_easy_perform(e);
    set(e, CURLOPT_HTTPHEADER, static_cast<curl_slist*>(nullptr));  // the list dies here
    s.response = nullptr;
    if (rc == CURLE_OK) {
      curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &response.status);
      return true;
    }
    response.headers.clear();
    response.body.clear();
    if (s.stopped) error = "stopped: the pipeline is stopping";
    else if (s.too_large || rc == CURLE_FILESIZE_EXCEEDED)
      error = "response larger than http_max_bytes (" + std::to_string(s.max_bytes) + " bytes)";
    else if (rc == CURLE_OPERATION_TIMEDOUT)
      error = "timed out after " + std::to_string(request.timeout.count()) + " ms";
    else
      error = std::string(curl_easy_strerror(rc)) + (s.error_buffer[0] ? std::string(": ") + s.error_buffer : "");
    return false;
  } catch (const std::exception& ex) {
    s.response = nullptr;
    error = ex.what();
    return false;
  } catch (...) {
    s.response = nullptr;
    error = "unknown failure";
    return false;
  }
}

}  // namespace lua_source
