#include "observe/page_routes.h"

#include <httplib.h>

#include <string>

#include "observe/page_assets.h"

namespace sluice {
namespace {

// Nothing from elsewhere: no CDN, no inline script or style markup (the
// page sets values with textContent and styles through the CSSOM), no
// framing, no forms. Records and reasons on the page are hostile; even if
// one were ever inserted as markup, its script would not run.
constexpr const char* kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

// cpp-httplib matches a route as a regular expression: the dots in a file
// name must match only a dot.
std::string exact_pattern(std::string_view path) {
  std::string pattern;
  for (char c : path) {
    if (c == '.') pattern += '\\';
    pattern += c;
  }
  return pattern;
}

}  // namespace

void add_page_routes(httplib::Server& server) {
  for (const PageAsset& asset : page_assets()) {
    // The asset table lives for the whole program: capturing it by value is a view copy.
    server.Get(exact_pattern(asset.path), [asset](const httplib::Request&, httplib::Response& response) {
      response.set_header("Cache-Control", "no-cache");
      response.set_header("Content-Security-Policy", kContentSecurityPolicy);
      response.set_header("X-Content-Type-Options", "nosniff");
      response.set_header("Referrer-Policy", "no-referrer");
      response.set_content(asset.body.data(), asset.body.size(), std::string(asset.content_type));
    });
  }
}

}  // namespace sluice
