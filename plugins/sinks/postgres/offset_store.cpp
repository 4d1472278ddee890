#include "offset_store.h"

#include "identifiers.h"
#include "pg_errors.h"
#include "pg_handles.h"
#include "sluice/error.h"

namespace pgsink {


OffsetStore::OffsetStore(std::string table, std::string group, std::string topic)
    : table_(quote_qualified(table)), group_(std::move(group)), topic_(std::move(topic)) {}

void OffsetStore::ensure_table(PGconn* conn) const {
  create_table_if_missing(conn, 1, table_, kOffsetsTableColumns);
}

std::map<int32_t, int64_t> OffsetStore::load(PGconn* conn, const std::vector<int32_t>& partitions) {
  std::string list = "{";
  for (size_t i = 0; i < partitions.size(); ++i) {
    if (i) list += ',';
    list += std::to_string(partitions[i]);
  }
  list += "}";
  std::string sql = "SELECT partition, next_offset FROM " + table_ +
                    " WHERE consumer_group = $1 AND topic = $2 AND partition = ANY($3::integer[])";
  const char* params[] = {group_.c_str(), topic_.c_str(), list.c_str()};
  PgResult r(PQexecParams(conn, sql.c_str(), 3, nullptr, params, nullptr, nullptr, 0));
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) raise_pg_error(conn, r.get(), "reading offsets from " + table_);
  std::map<int32_t, int64_t> stored;
  for (int i = 0; i < PQntuples(r.get()); ++i)
    stored[std::stoi(PQgetvalue(r.get(), i, 0))] = std::stoll(PQgetvalue(r.get(), i, 1));
  for (int32_t p : partitions) {
    auto it = stored.find(p);
    expected_[p] = it == stored.end() ? std::nullopt : std::optional<int64_t>(it->second);
  }
  return stored;
}

// One statement for every partition of the batch: a round trip per
// partition (32 of them for a 32-partition topic) cost as much as the COMMIT.
// The compare-and-set holds row by row as before: an UPDATE re-checks
// `next_offset = expected` on the row version a concurrent transaction
// committed (so it waits for that transaction and fails if it moved the
// offset), and a row another instance inserted is not inserted again.
bool OffsetStore::advance(PGconn* conn, const std::map<int32_t, int64_t>& next) {
  if (next.empty()) return true;
  std::string partitions = "{", offsets = "{", expected = "{";
  for (const auto& [partition, offset] : next) {
    auto it = expected_.find(partition);
    if (it == expected_.end()) return false;  // not (or no longer) ours
    const char* sep = partitions.size() > 1 ? "," : "";
    partitions += sep + std::to_string(partition);
    offsets += sep + std::to_string(offset);
    expected += sep + (it->second ? std::to_string(*it->second) : std::string("NULL"));
  }
  partitions += '}', offsets += '}', expected += '}';
  const std::string sql =
      "WITH cas (partition, next_offset, expected) AS "
      "(SELECT * FROM unnest($3::integer[], $4::bigint[], $5::bigint[])), "
      "moved AS (UPDATE " + table_ + " AS o SET next_offset = cas.next_offset, updated_at = now() FROM cas "
      "WHERE o.consumer_group = $1 AND o.topic = $2 AND o.partition = cas.partition "
      "AND o.next_offset = cas.expected RETURNING 1), "
      "created AS (INSERT INTO " + table_ + " (consumer_group, topic, partition, next_offset) "
      "SELECT $1, $2, partition, next_offset FROM cas WHERE expected IS NULL ORDER BY partition "
      "ON CONFLICT DO NOTHING RETURNING 1) "
      "SELECT (SELECT count(*) FROM moved) + (SELECT count(*) FROM created)";
  const char* params[] = {group_.c_str(), topic_.c_str(), partitions.c_str(), offsets.c_str(), expected.c_str()};
  PgResult r(PQexecParams(conn, sql.c_str(), 5, nullptr, params, nullptr, nullptr, 0));
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) raise_pg_error(conn, r.get(), "advancing offsets in " + table_);
  return std::stoull(PQgetvalue(r.get(), 0, 0)) == next.size();
}

void OffsetStore::committed(const std::map<int32_t, int64_t>& next) {
  for (const auto& [partition, offset] : next) expected_[partition] = offset;
}

void OffsetStore::forget(const std::vector<int32_t>& partitions) {
  for (int32_t p : partitions) expected_.erase(p);
}

}  // namespace pgsink
