#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include "kafka/handles.h"

namespace sluice {

// The high watermark (next offset to be written) of every partition of
// `topic`, asked from the brokers through any client handle.
std::map<int32_t, int64_t> high_watermarks(rd_kafka_t* rk, const std::string& topic,
                                           std::chrono::milliseconds timeout);

}  // namespace sluice
