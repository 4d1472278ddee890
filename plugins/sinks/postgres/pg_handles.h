// Owners for libpq handles, and small helpers around results.
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <string>

namespace pgsink {

struct PgDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgConn = std::unique_ptr<PGconn, PgDeleter>;
using PgResult = std::unique_ptr<PGresult, PgDeleter>;

inline std::string sqlstate(const PGresult* r) {
  const char* s = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  return s ? s : "";
}

// PostgreSQL's own words for a refused row: its message and detail.
inline std::string pg_row_message(const PGresult* r) {
  const char* primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
  const char* detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
  std::string m = primary ? primary : "refused by PostgreSQL";
  if (detail) m += std::string(" (") + detail + ")";
  return m;
}

// PostgreSQL's own message, without the trailing newline.
inline std::string pg_message(const PGresult* r, PGconn* conn) {
  std::string m = r ? PQresultErrorMessage(r) : "";
  if (m.empty() && conn) m = PQerrorMessage(conn);
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  return m;
}

}  // namespace pgsink
