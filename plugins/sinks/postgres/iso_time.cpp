#include "iso_time.h"

namespace pgsink {

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  // Counts in 400-year eras starting on March 1st, so that the leap day is
  // the last day of its year.
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto year_of_era = static_cast<unsigned>(y - era * 400);
  const unsigned day_of_year = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + static_cast<int64_t>(day_of_era) - 719468;
}

namespace {

class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}
  bool done() const { return at_ == s_.size(); }
  char peek() const { return done() ? '\0' : s_[at_]; }
  bool eat(char c) {
    if (peek() != c) return false;
    ++at_;
    return true;
  }
  // Exactly `n` digits.
  bool digits(int n, int& value) {
    value = 0;
    for (int i = 0; i < n; ++i, ++at_) {
      if (done() || s_[at_] < '0' || s_[at_] > '9') return false;
      value = value * 10 + (s_[at_] - '0');
    }
    return true;
  }
  // A fraction of a second, rounded to microseconds.
  bool fraction(int64_t& micros) {
    micros = 0;
    int n = 0;
    for (; !done() && s_[at_] >= '0' && s_[at_] <= '9'; ++at_, ++n) {
      if (n < 6) micros = micros * 10 + (s_[at_] - '0');
      else if (n == 6 && s_[at_] >= '5') ++micros;
    }
    for (int i = n; i < 6; ++i) micros *= 10;
    return n > 0;
  }

 private:
  std::string_view s_;
  size_t at_ = 0;
};

bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
  static constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : days[m - 1];
}

}  // namespace

std::optional<IsoTime> parse_iso_time(std::string_view text) {
  Cursor c(text);
  int year, month, day, hour = 0, minute = 0, second = 0;
  if (!c.digits(4, year) || !c.eat('-') || !c.digits(2, month) || !c.eat('-') || !c.digits(2, day)) return {};
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)) return {};
  int64_t micros = 0;
  if (c.eat('T') || c.eat('t') || c.eat(' ')) {
    if (!c.digits(2, hour) || !c.eat(':') || !c.digits(2, minute)) return {};
    if (c.eat(':')) {
      if (!c.digits(2, second)) return {};
      if (c.eat('.') && !c.fraction(micros)) return {};
    }
    // Second 60 is a leap second; like PostgreSQL, it rolls into the next minute.
    if (hour > 23 || minute > 59 || second > 60) return {};
  }
  int64_t offset = 0;
  const bool utc = c.eat('Z') || c.eat('z');
  if (!utc && (c.peek() == '+' || c.peek() == '-')) {
    const int sign = c.eat('-') ? -1 : 1;
    c.eat('+');
    int oh, om = 0;
    if (!c.digits(2, oh)) return {};
    if (!c.done()) {
      c.eat(':');
      if (!c.digits(2, om)) return {};
    }
    if (oh > 15 || om > 59) return {};
    offset = sign * (oh * 3600 + om * 60);
  }
  if (!c.done()) return {};
  int64_t seconds = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
                    hour * 3600 + minute * 60 + second;
  return IsoTime{seconds * kMicrosPerSecond + micros, offset};
}

}  // namespace pgsink
