// Kafka offsets kept in PostgreSQL, next to the data, advanced in the same
// transaction as the rows with a compare-and-set: an instance whose view of
// an offset is stale (fenced) cannot commit.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <libpq-fe.h>

namespace pgsink {

// The offsets table's definition, as created; `check --connect` verifies an
// existing table against the same text.
inline constexpr const char* kOffsetsTableColumns =
    "consumer_group text NOT NULL, topic text NOT NULL, partition integer NOT NULL, "
    "next_offset bigint NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(), "
    "PRIMARY KEY (consumer_group, topic, partition)";

class OffsetStore {
 public:
  OffsetStore(std::string table, std::string group, std::string topic);

  // Creates the table if missing (safe when several instances start at once).
  void ensure_table(PGconn* conn) const;

  // Stored next offsets of these partitions; also what CAS will expect.
  std::map<int32_t, int64_t> load(PGconn* conn, const std::vector<int32_t>& partitions);

  // What this instance believes is stored (nullopt: no row yet); absent: not ours.
  const std::map<int32_t, std::optional<int64_t>>& expected() const { return expected_; }

  // Inside the batch transaction: advance each partition to `next`. False
  // if any CAS found another value (fenced); throws on a database error.
  bool advance(PGconn* conn, const std::map<int32_t, int64_t>& next);

  // After COMMIT succeeded: remember the new values.
  void committed(const std::map<int32_t, int64_t>& next);

  void forget(const std::vector<int32_t>& partitions);

 private:
  std::string table_, group_, topic_;
  std::map<int32_t, std::optional<int64_t>> expected_;
};

}  // namespace pgsink
