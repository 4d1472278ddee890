// The target table as the catalog describes it, and the mapping of its
// columns to record fields.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <libpq-fe.h>

namespace pgsink {

enum class ColumnKind {
  int16, int32, int64, float32, float64, numeric, boolean, text, json, jsonb,
  timestamp,    // without time zone: the wall time as written
  timestamptz,  // with time zone: an instant
  date, other
};

// The field path that names the whole record (as jq's `.`), e.g. for a jsonb
// column that keeps each record as it came.
inline constexpr const char* kWholeRecord = ".";

struct Column {
  std::string name;
  std::string type;        // as format_type() prints it
  ColumnKind kind = ColumnKind::other;
  bool has_default = false;
  std::string field_path;  // record field, dot-separated for nesting; kWholeRecord: the record itself
};

struct TableSchema {
  std::string table;       // quoted, schema-qualified when given so
  std::vector<Column> columns;  // the mapped columns, in COPY order
};

// Reads the table's columns and maps them: `mapping` is column -> field path;
// empty means every column without a default, from the same-named top-level
// field. Throws sluice::Error(config) for a missing table or column.
TableSchema read_table_schema(PGconn* conn, const std::string& table,
                              const std::map<std::string, std::string>& mapping);

ColumnKind column_kind(const std::string& type_name);

}  // namespace pgsink
