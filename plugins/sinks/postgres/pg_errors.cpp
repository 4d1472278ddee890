#include "pg_errors.h"

#include "pg_handles.h"
#include "sluice/error.h"

namespace pgsink {

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

}  // namespace pgsink
