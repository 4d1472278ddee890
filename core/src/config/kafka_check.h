// `check` refuses the [kafka] settings that `run` would: each is set on
// scratch librdkafka configurations, for the producer and for the consumer,
// as run sets them, and a client is created from each (no broker is named,
// so nothing is contacted).
#pragma once

#include <string>

#include "config/pipeline.h"
#include "config/toml_fwd.h"

namespace sluice {

// `kafka` is the [kafka] table (positions of the offending keys come from
// it); problems go to `diagnostics` under `file`.
void check_kafka_settings(const KafkaSettings& settings, const toml::table& kafka, const std::string& file,
                          Diagnostics& diagnostics);

}  // namespace sluice
