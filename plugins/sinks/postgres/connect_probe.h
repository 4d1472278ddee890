// The checks of `sluice check --connect` for a PostgreSQL sink, each one
// line: read-only queries, catalog and privilege lookups; nothing is created
// or written.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <libpq-fe.h>

#include "copy_format.h"
#include "sluice/plugin_info.h"
#include "table_schema.h"

namespace pgsink {

// Server version, role, database and whether the connection is encrypted.
sluice::ProbeLine describe_connection(PGconn* conn);

// Bounds every later query of the probe (statement_timeout, this session only).
void limit_statements(PGconn* conn, std::chrono::milliseconds timeout);

// The role may write the target table (INSERT; upsert also UPDATE and a
// temporary staging table).
sluice::ProbeLine check_target_privileges(PGconn* conn, const TableSchema& schema, bool upsert);

// Tries the sink's own conversions (RowEncoder) on the recent records of its
// topic: FAIL when none of them could be stored.
sluice::ProbeLine try_recent_records(const TableSchema& schema, CopyFormat format, const sluice::ConnectProbe& probe);

// A table the sink creates when missing (offsets, rejects): it exists with
// every column of `definition` and `privileges` for this role, or this role
// may create it in its schema. `what` names it: "offsets_table".
sluice::ProbeLine check_own_table(PGconn* conn, const std::string& what, const std::string& table,
                                  const std::string& definition, const std::string& privileges);

// The column names of a CREATE TABLE column list (constraints left out).
std::vector<std::string> defined_columns(const std::string& definition);

}  // namespace pgsink
