#include "cli/http_client.h"

#include <cctype>
#include <charconv>
#include <cstdio>

#include <httplib.h>
#include <simdjson.h>

namespace sluice::cli {

std::optional<HttpAddr> parse_http_addr(const std::string& text) {
  const size_t colon = text.rfind(':');
  HttpAddr addr;
  addr.text = text;
  if (colon != std::string::npos) {
    addr.host = text.substr(0, colon);
    const char* begin = text.data() + colon + 1;
    const char* end = text.data() + text.size();
    auto [at, ec] = std::from_chars(begin, end, addr.port);
    if (ec != std::errc() || at != end) addr.port = 0;
  }
  if (addr.host.size() > 2 && addr.host.front() == '[' && addr.host.back() == ']')
    addr.host = addr.host.substr(1, addr.host.size() - 2);
  if (addr.host.empty() || addr.port <= 0 || addr.port > 65535) {
    std::fprintf(stderr, "error: --addr `%s` is not HOST:PORT (such as %s)\n", text.c_str(), kDefaultHttpAddr);
    return std::nullopt;
  }
  return addr;
}

std::optional<HttpReply> http_get(const HttpAddr& addr, const std::string& path, int read_timeout_s,
                                  const std::function<bool(const char*, size_t)>& on_data) {
  httplib::Client client(addr.host, addr.port);
  client.set_connection_timeout(3);
  client.set_read_timeout(read_timeout_s);
  HttpReply reply;
  bool stopped = false;
  auto on_response = [&](const httplib::Response& r) {
    reply.status = r.status;
    return true;
  };
  auto on_content = [&](const char* data, size_t size) {
    if (reply.status == 200 && on_data) {
      if (on_data(data, size)) return true;
      stopped = true;
      return false;
    }
    reply.body.append(data, size);
    return reply.body.size() < (1u << 24);
  };
  httplib::Result result = client.Get(path, on_response, on_content);
  if (result || stopped) return reply;
  if (reply.status != 0) return reply;  // the stream ended early (server stopping): what came is shown
  std::fprintf(stderr,
               "error: no sluice HTTP server answers at %s (%s): is the pipeline running? Its address is "
               "the pipeline file's [http] listen (default %s; `sluice run` logs it): pass it with --addr\n",
               addr.text.c_str(), httplib::to_string(result.error()).c_str(), kDefaultHttpAddr);
  return std::nullopt;
}

std::string error_text(const std::string& body) {
  simdjson::dom::parser parser;
  std::string_view message;
  if (!parser.parse(body)["error"].get(message)) return std::string(message);
  return body;
}

std::string url_encode(const std::string& text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace sluice::cli
