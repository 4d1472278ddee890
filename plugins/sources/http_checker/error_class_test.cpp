#include "error_class.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>

using http_checker::classify;

TEST(ErrorClass, EachFailureModeHasItsClass) {
  EXPECT_EQ(classify(CURLE_OK, 0, false), nullptr);
  EXPECT_STREQ(classify(CURLE_OPERATION_TIMEDOUT, 0, false), "timeout");
  EXPECT_STREQ(classify(CURLE_COULDNT_CONNECT, ECONNREFUSED, false), "connect_refused");
  EXPECT_STREQ(classify(CURLE_COULDNT_CONNECT, EHOSTUNREACH, false), "unreachable");
  EXPECT_STREQ(classify(CURLE_COULDNT_RESOLVE_HOST, 0, false), "dns");
  EXPECT_STREQ(classify(CURLE_PEER_FAILED_VERIFICATION, 0, false), "tls");
  EXPECT_STREQ(classify(CURLE_SSL_CONNECT_ERROR, 0, false), "tls");
  EXPECT_STREQ(classify(CURLE_TOO_MANY_REDIRECTS, 0, false), "too_many_redirects");
  EXPECT_STREQ(classify(CURLE_WRITE_ERROR, 0, true), "body_too_large");
  EXPECT_STREQ(classify(CURLE_WRITE_ERROR, 0, false), "write_error");
  EXPECT_STREQ(classify(CURLE_GOT_NOTHING, 0, false), "empty_reply");
  EXPECT_STREQ(classify(CURLE_RECV_ERROR, 0, false), "connection_lost");
  EXPECT_STREQ(classify(CURLE_OUT_OF_MEMORY, 0, false), "other");
}
