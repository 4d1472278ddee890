// How the sink classifies PostgreSQL failures, reads where a COPY failed, and
// the one DDL step it takes.
#pragma once

#include <string>

#include <libpq-fe.h>

namespace pgsink {

// Data exceptions and integrity violations belong to one row; anything else
// (connection, resources, permissions) concerns the whole batch.
bool is_row_error(const std::string& sqlstate);

// Throws sluice::Error: retriable for connection loss, serialization
// failures, lack of resources and shutdowns; fatal otherwise.
[[noreturn]] void raise_pg_error(PGconn* conn, const PGresult* r, const std::string& what);

// The 1-based line of COPY data, and the column, that a COPY error's context
// names (0 and "" when it names none).
long copy_error_line(const PGresult* r);
std::string copy_error_column(const PGresult* r);

// CREATE TABLE IF NOT EXISTS under an advisory lock, so that instances
// starting together do not race on the catalog.
void create_table_if_missing(PGconn* conn, int lock_id, const std::string& table, const std::string& columns);

}  // namespace pgsink
