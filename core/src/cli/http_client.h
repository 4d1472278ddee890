// What `sluice tap` and `sluice top` share: the address of a running
// pipeline's HTTP server and GET requests to it with clear errors.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace sluice::cli {

constexpr const char* kDefaultHttpAddr = "127.0.0.1:9464";

struct HttpAddr {
  std::string host;
  int port = 0;
  std::string text;  // as given
};

// "HOST:PORT"; prints an error and returns nullopt when it is not one.
std::optional<HttpAddr> parse_http_addr(const std::string& text);

struct HttpReply {
  int status = 0;
  std::string body;
};

// GET `path`. Each piece of a 200 reply's body goes to `on_data` when given
// (it returns false to stop), else into the reply. Nullopt, with an error
// printed naming the address, when no server answers.
std::optional<HttpReply> http_get(const HttpAddr& addr, const std::string& path, int read_timeout_s,
                                  const std::function<bool(const char*, size_t)>& on_data = {});

// The `"error"` of a JSON error reply, else the body.
std::string error_text(const std::string& body);

// `text` percent-encoded for a query parameter.
std::string url_encode(const std::string& text);

}  // namespace sluice::cli
