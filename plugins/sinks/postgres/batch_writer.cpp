#include "batch_writer.h"

#include <cstdlib>
#include <cstring>

#include "identifiers.h"
#include "pg_errors.h"
#include "pg_handles.h"
#include "row_encoder.h"
#include "sluice/error.h"

namespace pgsink {

namespace {

long copy_line(const PGresult* r) {
  const char* ctx = PQresultErrorField(r, PG_DIAG_CONTEXT);
  if (!ctx) return 0;
  const char* at = std::strstr(ctx, ", line ");
  return at ? std::strtol(at + 7, nullptr, 10) : 0;
}

void append_hex_bytea(std::string& out, const char* data, size_t len) {
  static const char* digits = "0123456789abcdef";
  out += "\\\\x";
  for (size_t i = 0; i < len; ++i) {
    auto c = static_cast<unsigned char>(data[i]);
    out += digits[c >> 4];
    out += digits[c & 15];
  }
}

}  // namespace

BatchWriter::BatchWriter(const TableSchema& schema, WriteSettings settings)
    : schema_(schema), settings_(std::move(settings)) {
  std::string cols, updates, keys;
  for (const auto& c : schema_.columns) {
    cols += (cols.empty() ? "" : ", ") + quote_ident(c.name);
    bool is_key = false;
    for (const auto& k : settings_.key_columns) is_key |= k == c.name;
    if (!is_key) updates += (updates.empty() ? "" : ", ") + quote_ident(c.name) + " = EXCLUDED." + quote_ident(c.name);
  }
  for (const auto& k : settings_.key_columns) keys += (keys.empty() ? "" : ", ") + quote_ident(k);
  const std::string format = settings_.format == CopyFormat::binary ? " (FORMAT binary)" : "";
  copy_target_sql_ = "COPY " + schema_.table + " (" + cols + ") FROM STDIN" + format;
  copy_stage_sql_ = "COPY pg_temp.sluice_stage (" + cols + ") FROM STDIN" + format;
  // Within one batch the last record of a key wins: rows are staged in
  // order, and a fresh heap keeps insertion order in ctid.
  merge_sql_ = "INSERT INTO " + schema_.table + " (" + cols + ") SELECT DISTINCT ON (" + keys + ") " + cols +
               " FROM pg_temp.sluice_stage ORDER BY " + keys + ", ctid DESC ON CONFLICT (" + keys + ") DO " +
               (updates.empty() ? "NOTHING" : "UPDATE SET " + updates);
}

void BatchWriter::exec(PGconn* conn, const std::string& sql) {
  PgResult r(PQexec(conn, sql.c_str()));
  if (PQresultStatus(r.get()) != PGRES_COMMAND_OK && PQresultStatus(r.get()) != PGRES_TUPLES_OK)
    raise_pg_error(conn, r.get(), sql.substr(0, sql.find(' ', 20)));
}

void BatchWriter::ensure_rejects_table(PGconn* conn) const {
  create_table_if_missing(conn, 2, settings_.rejects_table,
                          "id bigserial PRIMARY KEY, consumer_group text NOT NULL, topic text NOT NULL, "
                          "partition integer NOT NULL, \"offset\" bigint NOT NULL, key bytea, raw_value bytea NOT NULL, "
                          "reason text NOT NULL, rejected_at timestamptz NOT NULL DEFAULT now()");
}

void BatchWriter::send(PGconn* conn, std::string_view data) {
  const size_t chunk = 1 << 20;
  for (size_t at = 0; at < data.size(); at += chunk)
    if (PQputCopyData(conn, data.data() + at, static_cast<int>(std::min(chunk, data.size() - at))) != 1)
      raise_pg_error(conn, nullptr, "sending COPY data");
}

void BatchWriter::start_copy(PGconn* conn, const std::string& copy_sql) {
  PgResult start(PQexec(conn, copy_sql.c_str()));
  if (PQresultStatus(start.get()) != PGRES_COPY_IN) raise_pg_error(conn, start.get(), "starting COPY");
  send(conn, copy_header(settings_.format));
}

BatchWriter::CopyResult BatchWriter::copy_rows(PGconn* conn, const std::string& copy_sql, const EncodedBatch& b,
                                               size_t from, size_t to) {
  start_copy(conn, copy_sql);
  size_t begin = from == 0 ? 0 : b.row_end[from - 1];
  size_t end = to == 0 ? 0 : b.row_end[to - 1];
  send(conn, std::string_view(b.rows).substr(begin, end - begin));
  return end_copy(conn);
}

BatchWriter::CopyResult BatchWriter::end_copy(PGconn* conn) {
  send(conn, copy_trailer(settings_.format));
  if (PQputCopyEnd(conn, nullptr) != 1) raise_pg_error(conn, nullptr, "ending COPY");
  CopyResult result;
  PgResult r(PQgetResult(conn));
  if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
    if (!is_row_error(sqlstate(r.get()))) raise_pg_error(conn, r.get(), "COPY");
    result.ok = false;
    result.message = pg_row_message(r.get());
    result.line = copy_line(r.get());
  }
  while (PgResult more{PQgetResult(conn)}) {}
  return result;
}

// Rows [from, to) under a savepoint. A refused row is found by the line
// PostgreSQL names (or by halving when it names none), rejected, and the
// rows around it written again.
void BatchWriter::insert_rows(PGconn* conn, EncodedBatch& b, size_t from, size_t to) {
  while (from < to) {
    exec(conn, "SAVEPOINT sluice_rows");
    CopyResult r = copy_rows(conn, copy_target_sql_, b, from, to);
    if (r.ok) {
      exec(conn, "RELEASE SAVEPOINT sluice_rows");
      return;
    }
    exec(conn, "ROLLBACK TO SAVEPOINT sluice_rows");
    if (to - from == 1) {
      b.rejects.push_back({b.row_message[from], r.message});
      return;
    }
    if (r.line >= 1 && static_cast<size_t>(r.line) <= to - from) {
      size_t bad = from + static_cast<size_t>(r.line) - 1;
      if (bad > from) insert_rows(conn, b, from, bad);
      b.rejects.push_back({b.row_message[bad], r.message});
      from = bad + 1;
      continue;
    }
    size_t mid = from + (to - from) / 2;
    insert_rows(conn, b, from, mid);
    from = mid;
  }
}

// The staged batch (streamed by begin/feed) goes into the target; when
// PostgreSQL refuses a row, the batch is merged again row by row.
void BatchWriter::merge_staged(PGconn* conn, EncodedBatch& b) {
  exec(conn, "SAVEPOINT sluice_merge");
  PgResult merged(PQexec(conn, merge_sql_.c_str()));
  if (PQresultStatus(merged.get()) == PGRES_COMMAND_OK) {
    exec(conn, "RELEASE SAVEPOINT sluice_merge");
    exec(conn, "TRUNCATE pg_temp.sluice_stage");
    return;
  }
  if (!is_row_error(sqlstate(merged.get()))) raise_pg_error(conn, merged.get(), "merging staged rows");
  exec(conn, "ROLLBACK TO SAVEPOINT sluice_merge");
  exec(conn, "TRUNCATE pg_temp.sluice_stage");
  upsert_rows(conn, b);
}

// One row at a time, to find the rows PostgreSQL refuses (slow, rare).
void BatchWriter::upsert_rows(PGconn* conn, EncodedBatch& b) {
  for (size_t i = 0; i < b.row_end.size(); ++i) {
    exec(conn, "SAVEPOINT sluice_row");
    CopyResult one = copy_rows(conn, copy_stage_sql_, b, i, i + 1);
    std::string message = one.message;
    if (one.ok) {
      PgResult merged(PQexec(conn, merge_sql_.c_str()));
      if (PQresultStatus(merged.get()) != PGRES_COMMAND_OK) {
        if (!is_row_error(sqlstate(merged.get()))) raise_pg_error(conn, merged.get(), "merging a staged row");
        message = pg_row_message(merged.get());
      }
    }
    if (message.empty()) {
      exec(conn, "RELEASE SAVEPOINT sluice_row");
      exec(conn, "TRUNCATE pg_temp.sluice_stage");
    } else {
      exec(conn, "ROLLBACK TO SAVEPOINT sluice_row");
      b.rejects.push_back({b.row_message[i], message});
    }
  }
}

void BatchWriter::begin(PGconn* conn) {
  // The staging table is made outside the batch's transaction, so that a
  // rollback (a refused row, a fenced batch) does not take it away.
  if (settings_.upsert)
    exec(conn, "CREATE TEMP TABLE IF NOT EXISTS sluice_stage (LIKE " + schema_.table +
                   " INCLUDING DEFAULTS) ON COMMIT DELETE ROWS");
  exec(conn, "BEGIN");
  start_copy(conn, settings_.upsert ? copy_stage_sql_ : copy_target_sql_);
  sent_ = 0;
}

void BatchWriter::feed(PGconn* conn, const EncodedBatch& b) {
  // Sent in pieces large enough to keep the per-call cost small.
  if (b.rows.size() - sent_ < (256 << 10)) return;
  send(conn, std::string_view(b.rows).substr(sent_));
  sent_ = b.rows.size();
}

void BatchWriter::write_rejects(PGconn* conn, const EncodedBatch& b, std::span<const sluice::Message> messages) {
  if (b.rejects.empty()) return;
  std::string data, group, topic;
  append_copy_text(group, settings_.group);
  for (const auto& reject : b.rejects) {
    const sluice::Message& m = messages[reject.message];
    topic.clear();
    append_copy_text(topic, m.topic);
    data += group + '\t' + topic + '\t' + std::to_string(m.partition) + '\t' + std::to_string(m.offset) + '\t';
    if (m.has_key) append_hex_bytea(data, m.key.data(), m.key.size());
    else data += "\\N";
    data += '\t';
    append_hex_bytea(data, m.value.data(), m.value.size());
    data += '\t';
    append_copy_text(data, reject.reason);
    data += '\n';
  }
  std::string sql = "COPY " + settings_.rejects_table +
                    " (consumer_group, topic, partition, \"offset\", key, raw_value, reason) FROM STDIN";
  PgResult start(PQexec(conn, sql.c_str()));
  if (PQresultStatus(start.get()) != PGRES_COPY_IN) raise_pg_error(conn, start.get(), "starting COPY of rejects");
  if (PQputCopyData(conn, data.data(), static_cast<int>(data.size())) != 1 || PQputCopyEnd(conn, nullptr) != 1)
    raise_pg_error(conn, nullptr, "sending rejects");
  PgResult r(PQgetResult(conn));
  if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) raise_pg_error(conn, r.get(), "writing rejects");
  while (PgResult more{PQgetResult(conn)}) {}
}

BatchWriter::Outcome BatchWriter::finish(PGconn* conn, EncodedBatch& batch, std::span<const sluice::Message> messages,
                                        OffsetStore& offsets, const std::map<int32_t, int64_t>& next) {
  send(conn, std::string_view(batch.rows).substr(sent_));
  sent_ = batch.rows.size();
  CopyResult copied = end_copy(conn);
  if (!copied.ok) {
    // The refused row aborted the transaction: start again, isolating rows.
    exec(conn, "ROLLBACK");
    exec(conn, "BEGIN");
    if (settings_.upsert)
      upsert_rows(conn, batch);
    else
      insert_rows(conn, batch, 0, batch.row_end.size());
  } else if (settings_.upsert) {
    merge_staged(conn, batch);
  }
  write_rejects(conn, batch, messages);
  if (!offsets.advance(conn, next)) {
    exec(conn, "ROLLBACK");
    return Outcome::fenced;
  }
  exec(conn, "COMMIT");
  offsets.committed(next);
  return Outcome::committed;
}

}  // namespace pgsink
