#include "table_schema.h"

#include "identifiers.h"
#include "pg_handles.h"
#include "sluice/error.h"

namespace pgsink {

ColumnKind column_kind(const std::string& t) {
  if (t.ends_with("[]")) return ColumnKind::other;  // arrays: text format, PostgreSQL parses them
  if (t == "smallint") return ColumnKind::int16;
  if (t == "integer") return ColumnKind::int32;
  if (t == "bigint") return ColumnKind::int64;
  if (t == "real") return ColumnKind::float32;
  if (t == "double precision") return ColumnKind::float64;
  if (t.rfind("numeric", 0) == 0) return ColumnKind::numeric;
  if (t == "boolean") return ColumnKind::boolean;
  if (t == "json") return ColumnKind::json;
  if (t == "jsonb") return ColumnKind::jsonb;
  if (t.rfind("timestamp", 0) == 0)
    return t.find("with time zone") != std::string::npos && t.find("without") == std::string::npos
               ? ColumnKind::timestamptz
               : ColumnKind::timestamp;
  if (t == "date") return ColumnKind::date;
  if (t == "text" || t.rfind("character", 0) == 0) return ColumnKind::text;
  return ColumnKind::other;
}

TableSchema read_table_schema(PGconn* conn, const std::string& table,
                              const std::map<std::string, std::string>& mapping) {
  TableSchema schema;
  schema.table = quote_qualified(table);
  const char* params[] = {schema.table.c_str()};
  PgResult r(PQexecParams(conn,
                          "SELECT a.attname, format_type(a.atttypid, a.atttypmod), "
                          "a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> '' "
                          "FROM pg_attribute a WHERE a.attrelid = to_regclass($1) "
                          "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
                          1, nullptr, params, nullptr, nullptr, 0));
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK)
    throw sluice::Error(sluice::ErrorClass::retriable, "reading the columns of " + schema.table + ": " +
                                                           pg_message(r.get(), conn));
  if (PQntuples(r.get()) == 0)
    throw sluice::Error(sluice::ErrorClass::config, "table " + schema.table + " does not exist (or has no columns)");
  std::map<std::string, Column> by_name;
  std::vector<std::string> order;
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    Column c;
    c.name = PQgetvalue(r.get(), i, 0);
    c.type = PQgetvalue(r.get(), i, 1);
    c.kind = column_kind(c.type);
    c.has_default = PQgetvalue(r.get(), i, 2)[0] == 't';
    order.push_back(c.name);
    by_name[c.name] = c;
  }
  if (mapping.empty()) {
    for (const auto& name : order) {
      Column c = by_name[name];
      if (c.has_default) continue;
      c.field_path = name;
      schema.columns.push_back(c);
    }
    return schema;
  }
  for (const auto& [column, field] : mapping) {
    auto it = by_name.find(column);
    if (it == by_name.end())
      throw sluice::Error(sluice::ErrorClass::config,
                          "columns: table " + schema.table + " has no column `" + column + "`");
    Column c = it->second;
    c.field_path = field;
    schema.columns.push_back(c);
  }
  return schema;
}

}  // namespace pgsink
