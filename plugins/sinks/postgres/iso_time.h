// ISO 8601 / RFC 3339 dates and times, parsed on the client so that binary
// COPY can carry timestamps without PostgreSQL's (slower, more lenient)
// text input. Accepted: YYYY-MM-DD, optionally followed by `T` or a space and
// HH:MM[:SS[.fraction]], optionally followed by `Z` or an offset ±HH[:MM].
// A time without an offset is UTC.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace pgsink {

constexpr int64_t kMicrosPerSecond = 1'000'000;
// PostgreSQL counts timestamps from 2000-01-01 00:00:00 UTC.
constexpr int64_t kPgEpochUnixSeconds = 946'684'800;
constexpr int64_t kPgEpochUnixDays = 10'957;

struct IsoTime {
  int64_t wall_micros;  // the written date and time, as microseconds since the Unix epoch
  int64_t offset_seconds;  // the written offset (0 for Z or none)
  int64_t utc_micros() const { return wall_micros - offset_seconds * kMicrosPerSecond; }
};

std::optional<IsoTime> parse_iso_time(std::string_view text);

// Days since 1970-01-01 of a proleptic Gregorian date.
int64_t days_from_civil(int64_t year, unsigned month, unsigned day);

}  // namespace pgsink
