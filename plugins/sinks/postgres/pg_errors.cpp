#include "pg_errors.h"

#include <cstdlib>
#include <string_view>

#include "pg_handles.h"
#include "sluice/error.h"

namespace pgsink {

namespace {

// The line of an error's context that COPY wrote ("COPY t, line 3, column
// code: ..."): other lines may come first (a jsonb value's own "JSON data,
// line 1: ..."), and must not be taken for it.
std::string_view copy_context(const PGresult* r) {
  const char* ctx = PQresultErrorField(r, PG_DIAG_CONTEXT);
  std::string_view rest = ctx ? ctx : "";
  while (!rest.empty()) {
    const size_t end = rest.find('\n');
    const std::string_view line = rest.substr(0, end);
    if (line.starts_with("COPY ")) return line;
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + 1);
  }
  return {};
}

}  // namespace

bool is_row_error(const std::string& state) { return state.rfind("22", 0) == 0 || state.rfind("23", 0) == 0; }

void raise_pg_error(PGconn* conn, const PGresult* r, const std::string& what) {
  std::string state = sqlstate(r);
  bool retriable = PQstatus(conn) != CONNECTION_OK || state.empty() || state.rfind("08", 0) == 0 ||
                   state.rfind("40", 0) == 0 || state.rfind("53", 0) == 0 || state.rfind("57", 0) == 0;
  throw sluice::Error(retriable ? sluice::ErrorClass::retriable : sluice::ErrorClass::fatal,
                      what + ": " + pg_message(r, conn));
}

void create_table_if_missing(PGconn* conn, int lock_id, const std::string& table, const std::string& columns) {
  std::string sql = "BEGIN; SELECT pg_advisory_xact_lock(7366, " + std::to_string(lock_id) +
                    "); CREATE TABLE IF NOT EXISTS " + table + " (" + columns + "); COMMIT";
  PgResult r(PQexec(conn, sql.c_str()));
  if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
    PgResult rollback(PQexec(conn, "ROLLBACK"));
    raise_pg_error(conn, r.get(), "creating table " + table);
  }
}

long copy_error_line(const PGresult* r) {
  const std::string_view ctx = copy_context(r);
  const size_t at = ctx.find(", line ");
  return at == std::string_view::npos ? 0 : std::strtol(std::string(ctx.substr(at + 7, 20)).c_str(), nullptr, 10);
}

std::string copy_error_column(const PGresult* r) {
  const std::string_view ctx = copy_context(r);
  const size_t at = ctx.find(", column ");
  if (at == std::string_view::npos) return "";
  const std::string_view rest = ctx.substr(at + 9);
  return std::string(rest.substr(0, rest.find(": ")));
}

}  // namespace pgsink
