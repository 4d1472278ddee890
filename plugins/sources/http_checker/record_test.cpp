#include "record.h"

#include <gtest/gtest.h>

using namespace http_checker;

TEST(Record, Rfc3339InUtcWithMilliseconds) {
  std::string out;
  append_rfc3339(out, std::chrono::system_clock::time_point(std::chrono::milliseconds(1795485906789)));
  EXPECT_EQ(out, "2026-11-24T02:05:06.789Z");
}

TEST(Record, SuccessWithRegex) {
  CheckResult r;
  r.target = "home";
  r.url = "http://127.0.0.1:8080/a\"b";
  r.checked_at = std::chrono::system_clock::time_point(std::chrono::milliseconds(1795485906000));
  r.status = 200;
  r.response_ms = 1.5;
  r.ttfb_ms = 1.25;
  r.bytes = 12;
  std::string pattern = "Exa\\w+";
  r.regex = &pattern;
  r.regex_matched = true;
  std::string out;
  write_record(r, out);
  EXPECT_EQ(out,
            R"({"url":"http://127.0.0.1:8080/a\"b","method":"GET","status":200,"response_ms":1.500,)"
            R"("ttfb_ms":1.250,"bytes":12,"regex":"Exa\\w+","regex_matched":true,"error":null,)"
            R"("error_detail":null,"checked_at":"2026-11-24T02:05:06.000Z","target":"home"})");
}

TEST(Record, FailureWithoutResponseHasNullStatus) {
  CheckResult r;
  r.target = "t";
  r.url = "http://127.0.0.1:1/";
  r.head = true;
  r.error = "connect_refused";
  r.error_detail = "Failed to connect\n";
  std::string out;
  write_record(r, out);
  EXPECT_NE(out.find(R"("method":"HEAD","status":null)"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("ttfb_ms":null)"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("regex":null,"regex_matched":null)"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("error":"connect_refused","error_detail":"Failed to connect\n")"), std::string::npos) << out;
}
