// /api/tap and /api/rejects: the records and rejects passing a step, as JSON
// lines (see CONTRACT of issue 15 and README "Observability").
#pragma once

#include <string>
#include <string_view>

#include "observe/status_json.h"  // append_json_text

namespace httplib {
class Server;
}

namespace sluice {

class Telemetry;
struct RejectedRecord;
struct TapRecord;

void add_tap_routes(httplib::Server& server, Telemetry& telemetry);

// The JSON lines themselves (no newline), for the routes and their tests.
std::string tap_record_json(std::string_view step, const TapRecord& record);
std::string reject_json(const RejectedRecord& reject, uint64_t n = 0);  // n > 0: with "n"
// append_json_text(out, bytes): from observe/status_json.h.

}  // namespace sluice
