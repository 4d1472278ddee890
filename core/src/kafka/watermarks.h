#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "kafka/handles.h"

namespace sluice {

// The ids of the partitions of `topic`, from the brokers' metadata, asked
// through any client handle. Throws sluice::Error(unavailable), also for a
// topic the brokers do not know.
std::vector<int32_t> partition_ids(rd_kafka_t* rk, const std::string& topic, std::chrono::milliseconds timeout);

// The high watermark (next offset to be written) of every partition of
// `topic`, asked from the brokers through any client handle.
std::map<int32_t, int64_t> high_watermarks(rd_kafka_t* rk, const std::string& topic,
                                           std::chrono::milliseconds timeout);

// What a partition's log holds: offsets [low, high).
struct LogRange {
  int64_t low = 0, high = 0;
};

// Asked from the partition's leader. Throws sluice::Error(unavailable).
LogRange log_range(rd_kafka_t* rk, const std::string& topic, int32_t partition,
                   std::chrono::milliseconds timeout);

}  // namespace sluice
