#include "record.h"

#include <charconv>
#include <ctime>

#include "sluice/json_text.h"

namespace http_checker {

using sluice::append_json_string;

namespace {

void append_ms(std::string& out, double ms) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, ms, std::chars_format::fixed, 3);
  out.append(buf, ec == std::errc() ? end : buf);
}

void append_int(std::string& out, int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, ec == std::errc() ? end : buf);
}

void append_2(std::string& out, int v) {
  out.push_back(static_cast<char>('0' + v / 10));
  out.push_back(static_cast<char>('0' + v % 10));
}

}  // namespace


void append_rfc3339(std::string& out, std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  int frac = static_cast<int>(ms % 1000);
  if (frac < 0) frac += 1000, --secs;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  append_int(out, tm.tm_year + 1900);
  out.push_back('-');
  append_2(out, tm.tm_mon + 1);
  out.push_back('-');
  append_2(out, tm.tm_mday);
  out.push_back('T');
  append_2(out, tm.tm_hour);
  out.push_back(':');
  append_2(out, tm.tm_min);
  out.push_back(':');
  append_2(out, tm.tm_sec);
  out.push_back('.');
  out.push_back(static_cast<char>('0' + frac / 100));
  append_2(out, frac % 100);
  out.push_back('Z');
}

void write_record(const CheckResult& r, std::string& out) {
  out.clear();
  out += "{\"url\":";
  append_json_string(out, r.url);
  out += r.head ? ",\"method\":\"HEAD\",\"status\":" : ",\"method\":\"GET\",\"status\":";
  if (r.status > 0) append_int(out, r.status);
  else out += "null";
  out += ",\"response_ms\":";
  append_ms(out, r.response_ms);
  out += ",\"ttfb_ms\":";
  if (r.status > 0) append_ms(out, r.ttfb_ms);
  else out += "null";
  out += ",\"bytes\":";
  append_int(out, r.bytes);
  out += ",\"regex\":";
  if (r.regex) {
    append_json_string(out, *r.regex);
    out += r.regex_matched ? ",\"regex_matched\":true" : ",\"regex_matched\":false";
  } else {
    out += "null,\"regex_matched\":null";
  }
  out += ",\"error\":";
  if (r.error) {
    append_json_string(out, r.error);
    out += ",\"error_detail\":";
    append_json_string(out, r.error_detail);
  } else {
    out += "null,\"error_detail\":null";
  }
  out += ",\"checked_at\":\"";
  append_rfc3339(out, r.checked_at);
  out += "\",\"target\":";
  append_json_string(out, r.target);
  out.push_back('}');
}

}  // namespace http_checker
