#include "observe/page_routes.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <fstream>
#include <iterator>
#include <string>
#include <thread>

#include "observe/page_assets.h"

namespace sluice {

// A real server on a loopback port: the page's files come back with their
// types, no caching, and a CSP that allows no source but the page itself.
TEST(PageRoutes, ServeTheEmbeddedFilesWithTypesAndAStrictPolicy) {
  httplib::Server server;
  add_page_routes(server);
  int port = server.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread serving([&] { server.listen_after_bind(); });  // the socket listens already: no race
  httplib::Client client("127.0.0.1", port);

  struct Expected { const char* path; const char* type; const char* contains; };
  for (const Expected& e : {Expected{"/", "text/html; charset=utf-8", "<script src=\"/static/app.js\">"},
                            Expected{"/static/app.js", "text/javascript; charset=utf-8", "/api/status"},
                            Expected{"/static/style.css", "text/css; charset=utf-8", ".card"},
                            Expected{"/favicon.svg", "image/svg+xml", "<svg"}}) {
    auto response = client.Get(e.path);
    ASSERT_TRUE(response) << e.path;
    EXPECT_EQ(response->status, 200) << e.path;
    EXPECT_EQ(response->get_header_value("Content-Type"), e.type) << e.path;
    EXPECT_EQ(response->get_header_value("Cache-Control"), "no-cache") << e.path;
    EXPECT_NE(response->get_header_value("Content-Security-Policy").find("default-src 'self'"), std::string::npos);
    EXPECT_NE(response->body.find(e.contains), std::string::npos) << e.path;
  }
  // The file names are matched exactly (a route is a regular expression to cpp-httplib).
  auto other = client.Get("/static/appXjs");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 404);
  // The embedded bytes are the files' bytes, whole.
  for (const PageAsset& asset : page_assets()) {
    std::string name = asset.path == "/" ? "index.html" : std::string(asset.path.substr(asset.path.rfind('/') + 1));
    std::ifstream file(std::string(SLUICE_PAGE_DIR) + "/" + name, std::ios::binary);
    ASSERT_TRUE(file) << name;
    std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    EXPECT_EQ(asset.body, bytes) << name;
  }

  server.stop();
  serving.join();
}

}  // namespace sluice
