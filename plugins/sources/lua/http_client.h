// The blocking HTTP client behind sluice.http: one libcurl easy handle per
// source (connections are kept alive between calls), TLS always verified,
// http and https only, a per-call timeout, a cap on the response body, and a
// stop check so that no call outlives a pipeline stop by more than a tick.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace lua_source {

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool has_body = false;
  std::chrono::milliseconds timeout{30'000};
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased; repeated ones joined with ", "
  std::string body;
};

// "" when `url` is an http or https URL, else why not (never quoting it).
std::string url_problem(const std::string& url);

// Adds one raw header line ("Name: value\r\n") to `headers`, lower-casing the
// name; a status line ("HTTP/1.1 200 OK") starts a new response (after a
// redirect) and clears what came before.
void add_header_line(std::string_view line, std::map<std::string, std::string>& headers);

class HttpClient {
 public:
  // `ca_file`: extra CA bundle instead of the system's ("" : the system's).
  HttpClient(size_t max_bytes, std::string ca_file);
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;
  ~HttpClient();

  // Performs `request`; true with `response` filled (any HTTP status), or
  // false with `error` saying what failed (connect, TLS, timeout, size cap,
  // stopped). Neither names a header value. `stopping` is polled during the
  // transfer. Never throws.
  bool perform(const HttpRequest& request, const std::function<bool()>& stopping, HttpResponse& response,
               std::string& error) noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lua_source
