#include "kafka/watermarks.h"

#include "sluice/error.h"

namespace sluice {

std::vector<int32_t> partition_ids(rd_kafka_t* rk, const std::string& topic, std::chrono::milliseconds timeout) {
  KafkaTopic handle(rd_kafka_topic_new(rk, topic.c_str(), nullptr));
  const rd_kafka_metadata_t* raw = nullptr;
  if (rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, handle.get(), &raw, static_cast<int>(timeout.count())))
    throw Error(errc::unavailable, "metadata of `" + topic + "`: " + rd_kafka_err2str(err));
  KafkaMetadata metadata(raw);
  std::vector<int32_t> out;
  for (int t = 0; t < metadata->topic_cnt; ++t) {
    if (metadata->topics[t].err)
      throw Error(errc::unavailable,
                  "metadata of `" + topic + "`: " + rd_kafka_err2str(metadata->topics[t].err));
    for (int p = 0; p < metadata->topics[t].partition_cnt; ++p) out.push_back(metadata->topics[t].partitions[p].id);
  }
  return out;
}

std::map<int32_t, int64_t> high_watermarks(rd_kafka_t* rk, const std::string& topic,
                                           std::chrono::milliseconds timeout) {
  std::map<int32_t, int64_t> out;
  for (int32_t partition : partition_ids(rk, topic, timeout)) out[partition] = log_range(rk, topic, partition, timeout).high;
  return out;
}

LogRange log_range(rd_kafka_t* rk, const std::string& topic, int32_t partition,
                   std::chrono::milliseconds timeout) {
  LogRange range;
  if (rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(rk, topic.c_str(), partition, &range.low,
                                                                 &range.high, static_cast<int>(timeout.count())))
    throw Error(errc::unavailable, "watermarks of " + topic + "/" + std::to_string(partition) + ": " +
                                       rd_kafka_err2str(err));
  return range;
}

}  // namespace sluice
