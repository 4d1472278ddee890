// Turns the pipeline's [kafka] section into a librdkafka configuration.
#pragma once

#include <cstdint>
#include <string>

#include "config/pipeline.h"
#include "kafka/handles.h"

namespace sluice {

enum class ClientRole { producer, consumer };

// `bootstrap` is the resolved address list (the embedded broker's, when the
// pipeline says "embedded"). Throws sluice::Error(config) naming the property
// (never its value) that librdkafka refused.
KafkaConf make_client_conf(const KafkaSettings& settings, const std::string& bootstrap,
                           ClientRole role);

// Sets one property or throws as above.
void set_property(rd_kafka_conf_t* conf, const std::string& name, const std::string& value);
// An integer property as the configuration holds it (librdkafka's default if unset).
int64_t int_property(const rd_kafka_conf_t* conf, const std::string& name);

}  // namespace sluice
