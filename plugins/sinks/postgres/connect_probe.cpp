#include "connect_probe.h"

#include <optional>

#include "identifiers.h"
#include "pg_handles.h"
#include "row_encoder.h"

namespace pgsink {

namespace {

using sluice::ProbeLine;

// The server's message without libpq's "ERROR:  " prefix.
std::string server_says(const PGresult* r, PGconn* conn) {
  const char* primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  return primary ? primary : pg_message(r, conn);
}

// One row of text values, or nullopt with the server's message in `error`.
std::optional<std::vector<std::string>> query_row(PGconn* conn, const std::string& sql,
                                                  const std::vector<const char*>& params, std::string& error) {
  PgResult r(PQexecParams(conn, sql.c_str(), static_cast<int>(params.size()), nullptr, params.data(), nullptr,
                          nullptr, 0));
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
    error = server_says(r.get(), conn);
    return std::nullopt;
  }
  std::vector<std::string> row;
  if (PQntuples(r.get()) > 0)
    for (int i = 0; i < PQnfields(r.get()); ++i) row.push_back(PQgetisnull(r.get(), 0, i) ? "" : PQgetvalue(r.get(), 0, i));
  return row;
}

std::string role_of(PGconn* conn) {
  const char* user = PQuser(conn);
  return user ? user : "?";
}

}  // namespace

ProbeLine describe_connection(PGconn* conn) {
  std::string error;
  auto row = query_row(conn, "SELECT current_user, current_database()", {}, error);
  if (!row || row->size() < 2) return {false, "postgres connected, but reading its role and database failed: " + error};
  // 150018 -> 15.18 (major * 10000 + minor since PostgreSQL 10).
  const int version = PQserverVersion(conn);
  const std::string server = std::to_string(version / 10000) + "." + std::to_string(version % 10000);
  std::string tls = "TLS off";
  if (PQsslInUse(conn)) {
    const char* protocol = PQsslAttribute(conn, "protocol");
    tls = std::string("TLS on") + (protocol ? std::string(" (") + protocol + ")" : "");
  }
  return {true, "postgres connected (server " + server + ", user " + (*row)[0] + ", database " + (*row)[1] +
                    ", " + tls + ")"};
}

void limit_statements(PGconn* conn, std::chrono::milliseconds timeout) {
  const std::string sql = "SET statement_timeout = " + std::to_string(timeout.count());
  PgResult(PQexec(conn, sql.c_str()));
}

ProbeLine check_target_privileges(PGconn* conn, const TableSchema& schema, bool upsert) {
  const std::string wanted = upsert ? "INSERT, UPDATE" : "INSERT";
  std::string error;
  const char* params[] = {schema.table.c_str(), wanted.c_str()};
  auto row = query_row(conn,
                       "SELECT has_table_privilege($1, $2), has_database_privilege(current_database(), 'TEMP')",
                       {params[0], params[1]}, error);
  if (!row || row->size() < 2) return {false, "reading the privileges on " + schema.table + ": " + error};
  if ((*row)[0] != "t")
    return {false, "role " + role_of(conn) + " lacks " + wanted + " on table " + schema.table};
  // Insert mode COPYs into the table itself, which PostgreSQL refuses for a
  // view (or materialized view) without an INSTEAD OF INSERT trigger, however
  // INSERT is granted.
  auto kind = query_row(conn,
                        "SELECT c.relkind::text, EXISTS (SELECT FROM pg_trigger t WHERE t.tgrelid = c.oid "
                        "AND (t.tgtype & 64) <> 0 AND (t.tgtype & 4) <> 0) FROM pg_class c WHERE c.oid = to_regclass($1)",
                        {params[0]}, error);
  if (!kind || kind->size() < 2) return {false, "reading what " + schema.table + " is: " + error};
  if (!upsert && ((*kind)[0] == "m" || ((*kind)[0] == "v" && (*kind)[1] != "t")))
    return {false, schema.table + " is a " + ((*kind)[0] == "v" ? "view" : "materialized view") +
                       ": sluice writes by COPY, which needs a table (or a view with an INSTEAD OF INSERT trigger)"};
  if (upsert && (*row)[1] != "t")
    return {false, "role " + role_of(conn) + " may not create temporary tables (upsert stages its rows in one)"};
  return {true, "role " + role_of(conn) + " may " + wanted + " into " + schema.table};
}

ProbeLine try_recent_records(const TableSchema& schema, CopyFormat format, const sluice::ConnectProbe& probe) {
  std::string columns;
  for (const auto& c : schema.columns) columns += (columns.empty() ? "" : ", ") + c.name + " " + c.type;
  const std::string head = "table " + schema.table + " has the mapped columns (" + columns + ")";
  if (probe.recent_records.empty())
    return {true, head + "; field types not tried: " + probe.records_note};
  RowEncoder encoder(schema.columns, format);
  // A record that is not JSON (garbage, a tombstone) says nothing about the
  // table: it would be a reject whatever the columns are.
  std::string row, reason, first_reason, not_json_reason;
  size_t stored = 0, not_json = 0;
  for (size_t i = 0; i < probe.recent_records.size(); ++i) {
    row.clear();
    if (encoder.encode(probe.recent_records[i], row, reason)) {
      ++stored;
      continue;
    }
    if (i < probe.record_origins.size()) reason += " (" + probe.record_origins[i] + ")";
    if (reason.rfind(RowEncoder::kNotJson, 0) == 0) {
      if (++not_json == 1) not_json_reason = reason;
    } else if (first_reason.empty()) {
      first_reason = reason;
    }
  }
  const std::string tried = std::to_string(probe.recent_records.size()) + " recent record(s) of the topic";
  if (not_json == probe.recent_records.size())
    return {true, head + "; field types not tried: none of the " + tried + " is JSON (each would be a reject: " +
                      not_json_reason + ")"};
  if (stored == 0) return {false, first_reason + " (none of the " + tried + " could be stored)"};
  std::string line = head + "; " + std::to_string(stored) + " of the " + tried + " convert";
  if (!first_reason.empty() || not_json)
    line += " (one that does not would be a reject: " + (first_reason.empty() ? not_json_reason : first_reason) + ")";
  return {true, line};
}

std::vector<std::string> defined_columns(const std::string& definition) {
  std::vector<std::string> names;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i <= definition.size(); ++i) {
    const char c = i < definition.size() ? definition[i] : ',';
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c != ',' || depth != 0) continue;
    std::string item = definition.substr(start, i - start);
    start = i + 1;
    item.erase(0, item.find_first_not_of(' '));
    std::string name = item.substr(0, item.find(' '));
    if (name.empty() || name == "PRIMARY" || name == "UNIQUE" || name == "CONSTRAINT") continue;
    if (name.size() >= 2 && name.front() == '"' && name.back() == '"') name = name.substr(1, name.size() - 2);
    names.push_back(name);
  }
  return names;
}

ProbeLine check_own_table(PGconn* conn, const std::string& what, const std::string& table,
                          const std::string& definition, const std::string& privileges) {
  const std::string quoted = quote_qualified(table);
  std::string error;
  auto exists = query_row(conn, "SELECT to_regclass($1) IS NOT NULL", {quoted.c_str()}, error);
  if (!exists || exists->empty()) return {false, what + " " + quoted + ": " + error};
  if ((*exists)[0] == "t") {
    // Naming every column the sink uses, in a query that reads no row.
    std::string select;
    for (const auto& name : defined_columns(definition)) select += (select.empty() ? "" : ", ") + quote_ident(name);
    PgResult r(PQexec(conn, ("SELECT " + select + " FROM " + quoted + " WHERE false").c_str()));
    if (PQresultStatus(r.get()) != PGRES_TUPLES_OK)
      return {false, what + " " + quoted + " exists but is not the table sluice makes: " + server_says(r.get(), conn)};
    const char* params[] = {quoted.c_str(), privileges.c_str()};
    auto allowed = query_row(conn, "SELECT has_table_privilege($1, $2)", {params[0], params[1]}, error);
    if (!allowed || allowed->empty()) return {false, what + " " + quoted + ": " + error};
    if ((*allowed)[0] != "t")
      return {false, what + " " + quoted + " exists, but role " + role_of(conn) + " lacks " + privileges + " on it"};
    return {true, what + " " + quoted + " exists with the expected columns"};
  }
  // Created where CREATE TABLE would put it: the named schema, else the
  // first schema of the search path.
  const auto dot = table.find('.');
  const std::string schema = dot == std::string::npos ? "" : table.substr(0, dot);
  auto row = query_row(conn,
                       "SELECT s, has_schema_privilege(s, 'CREATE') FROM "
                       "(SELECT coalesce(nullif($1, ''), current_schema()) AS s) AS target",
                       {schema.c_str()}, error);
  if (!row || row->size() < 2) return {false, what + " " + quoted + " does not exist, and its schema: " + error};
  if ((*row)[0].empty())
    return {false, what + " " + quoted + " does not exist, and the search path names no schema to create it in"};
  if ((*row)[1] != "t")
    return {false, what + " " + quoted + " does not exist, and role " + role_of(conn) +
                       " may not create it (no CREATE privilege on schema " + (*row)[0] + ")"};
  return {true, what + " " + quoted + " does not exist; sluice will create it (role " + role_of(conn) +
                    " has CREATE on schema " + (*row)[0] + ")"};
}

}  // namespace pgsink
