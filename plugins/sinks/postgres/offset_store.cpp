#include "offset_store.h"

#include "identifiers.h"
#include "pg_errors.h"
#include "pg_handles.h"
#include "sluice/error.h"

namespace pgsink {


OffsetStore::OffsetStore(std::string table, std::string group, std::string topic)
    : table_(quote_qualified(table)), group_(std::move(group)), topic_(std::move(topic)) {}

void OffsetStore::ensure_table(PGconn* conn) const {
  create_table_if_missing(conn, 1, table_,
                          "consumer_group text NOT NULL, topic text NOT NULL, partition integer NOT NULL, "
                          "next_offset bigint NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(), "
                          "PRIMARY KEY (consumer_group, topic, partition)");
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

bool OffsetStore::advance(PGconn* conn, const std::map<int32_t, int64_t>& next) {
  for (const auto& [partition, offset] : next) {
    auto it = expected_.find(partition);
    if (it == expected_.end()) return false;  // not (or no longer) ours
    std::string p = std::to_string(partition), n = std::to_string(offset);
    PgResult r;
    if (it->second) {
      std::string e = std::to_string(*it->second);
      std::string sql = "UPDATE " + table_ +
                        " SET next_offset = $4, updated_at = now() WHERE consumer_group = $1 AND topic = $2 "
                        "AND partition = $3 AND next_offset = $5";
      const char* params[] = {group_.c_str(), topic_.c_str(), p.c_str(), n.c_str(), e.c_str()};
      r.reset(PQexecParams(conn, sql.c_str(), 5, nullptr, params, nullptr, nullptr, 0));
    } else {
      std::string sql = "INSERT INTO " + table_ +
                        " (consumer_group, topic, partition, next_offset) VALUES ($1, $2, $3, $4) "
                        "ON CONFLICT DO NOTHING";
      const char* params[] = {group_.c_str(), topic_.c_str(), p.c_str(), n.c_str()};
      r.reset(PQexecParams(conn, sql.c_str(), 4, nullptr, params, nullptr, nullptr, 0));
    }
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) raise_pg_error(conn, r.get(), "advancing offsets in " + table_);
    if (std::string(PQcmdTuples(r.get())) != "1") return false;
  }
  return true;
}

void OffsetStore::committed(const std::map<int32_t, int64_t>& next) {
  for (const auto& [partition, offset] : next) expected_[partition] = offset;
}

void OffsetStore::forget(const std::vector<int32_t>& partitions) {
  for (int32_t p : partitions) expected_.erase(p);
}

}  // namespace pgsink
