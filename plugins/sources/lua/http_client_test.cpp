#include "http_client.h"

#include <gtest/gtest.h>

using namespace lua_source;

TEST(HttpClient, OnlyHttpAndHttpsUrlsAreAllowed) {
  EXPECT_EQ(url_problem("http://127.0.0.1:8080/x"), "");
  EXPECT_EQ(url_problem("HTTPS://api.github.com/search/users?q=location:finland"), "");
  EXPECT_NE(url_problem("file:///etc/passwd").find("only http and https"), std::string::npos);
  EXPECT_NE(url_problem("ftp://example.com/").find("only http and https"), std::string::npos);
  EXPECT_NE(url_problem("not a url"), "");
  EXPECT_NE(url_problem(""), "");
}

TEST(HttpClient, HeaderNamesAreLowerCasedAndRepeatsJoined) {
  std::map<std::string, std::string> h;
  add_header_line("HTTP/1.1 200 OK\r\n", h);
  add_header_line("X-RateLimit-Remaining: 0\r\n", h);
  add_header_line("Link:  <https://x/?page=2>; rel=\"next\" \r\n", h);
  add_header_line("link: <https://x/?page=9>; rel=\"last\"\r\n", h);
  add_header_line("\r\n", h);
  EXPECT_EQ(h.at("x-ratelimit-remaining"), "0");
  EXPECT_EQ(h.at("link"), "<https://x/?page=2>; rel=\"next\", <https://x/?page=9>; rel=\"last\"");
  EXPECT_EQ(h.size(), 2u);
}

TEST(HttpClient, ARedirectsNextStatusLineStartsTheHeadersAfresh) {
  std::map<std::string, std::string> h;
  add_header_line("HTTP/1.1 301 Moved\r\n", h);
  add_header_line("Location: /new\r\n", h);
  add_header_line("HTTP/2 200\r\n", h);
  add_header_line("Content-Type: application/json\r\n", h);
  EXPECT_EQ(h.count("location"), 0u);
  EXPECT_EQ(h.at("content-type"), "application/json");
}

TEST(HttpClient, ARefusedSchemeIsAnErrorWithoutAnyRequest) {
  HttpClient client(1024, "");
  HttpRequest request;
  request.url = "file:///etc/passwd";
  HttpResponse response;
  std::string error;
  EXPECT_FALSE(client.perform(request, [] { return false; }, response, error));
  EXPECT_NE(error.find("only http and https"), std::string::npos);
}

TEST(HttpClient, AConnectionRefusedIsAnError) {
  HttpClient client(1024, "");
  HttpRequest request;
  request.url = "http://127.0.0.1:1/";  // nothing listens on port 1
  request.timeout = std::chrono::milliseconds(5000);
  HttpResponse response;
  std::string error;
  EXPECT_FALSE(client.perform(request, [] { return false; }, response, error));
  EXPECT_FALSE(error.empty());
}
