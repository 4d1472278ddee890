// sluice.h: a host sink's records, read through the same accessors the
// plugin ABI's host table gives C sink plugins (one implementation).
#include "embed/c_api_support.h"

namespace {
const sluice_host_api& host() { return *sluice::host_api(); }
}  // namespace

extern "C" {

size_t sluice_batch_count(const sluice_batch* b) { return b ? host().batch_count(b) : 0; }
const sluice_message* sluice_batch_message(const sluice_batch* b, size_t i) {
  return b ? host().batch_message(b, i) : nullptr;
}
const char* sluice_message_topic(const sluice_message* m) { return host().message_topic(m); }
int32_t sluice_message_partition(const sluice_message* m) { return host().message_partition(m); }
int64_t sluice_message_offset(const sluice_message* m) { return host().message_offset(m); }
int64_t sluice_message_timestamp_ms(const sluice_message* m) { return host().message_timestamp_ms(m); }
const char* sluice_message_key(const sluice_message* m, size_t* len) { return host().message_key(m, len); }
const char* sluice_message_value(const sluice_message* m, size_t* len) { return host().message_value(m, len); }
void sluice_record_failed(sluice_write_result* r, size_t index, int retriable, const char* message) {
  if (r) host().record_failed(r, index, retriable, message);
}

}  // extern "C"
