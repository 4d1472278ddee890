#include "batch_writer.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "identifiers.h"
#include "pg_errors.h"
#include "pg_handles.h"
#include "pg_text.h"
#include "row_encoder.h"
#include "sluice/error.h"

namespace pgsink {

namespace {

// Whether messages i-1 and i are outputs of one record (a split): they share
// an offset, so they must commit together.
bool same_record(std::span<const sluice::Message> m, size_t i) {
  return m[i - 1].partition == m[i].partition && m[i - 1].offset == m[i].offset;
}

// Where to cut messages [from, to) in two without parting a record's
// outputs; `from` when it cannot be cut.
size_t split_point(std::span<const sluice::Message> m, size_t from, size_t to) {
  if (to - from < 2) return from;
  const size_t mid = from + (to - from) / 2;
  size_t up = mid;
  while (up < to && same_record(m, up)) ++up;
  if (up < to) return up;
  size_t down = mid;
  while (down > from && same_record(m, down)) --down;
  return down;
}

// The next offsets once messages [from, to) are stored: past the last of each
// partition that is not stored yet.
std::map<int32_t, int64_t> offsets_after(std::span<const sluice::Message> m, size_t from, size_t to,
                                         const std::map<int32_t, std::optional<int64_t>>& expected) {
  std::map<int32_t, int64_t> next;
  for (size_t i = from; i < to; ++i) {
    auto e = expected.find(m[i].partition);
    if (e == expected.end() || (e->second && m[i].offset < *e->second)) continue;
    auto [it, fresh] = next.emplace(m[i].partition, m[i].offset + 1);
    if (!fresh) it->second = std::max(it->second, m[i].offset + 1);
  }
  return next;
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
  create_table_if_missing(conn, 2, settings_.rejects_table, kRejectsTableColumns);
}

void BatchWriter::send(PGconn* conn, std::string_view data) {
  StepTimer timer(timings_, WriteStep::send);
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
  StepTimer timer(timings_, WriteStep::copy_end);
  if (PQputCopyEnd(conn, nullptr) != 1) raise_pg_error(conn, nullptr, "ending COPY");
  CopyResult result;
  PgResult r(PQgetResult(conn));
  if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
    if (!is_row_error(sqlstate(r.get()))) raise_pg_error(conn, r.get(), "COPY");
    result.ok = false;
    const std::string column = copy_error_column(r.get());
    result.message = (column.empty() ? "" : "column " + column + ": ") + pg_row_message(r.get());
    result.line = copy_error_line(r.get());
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
      // That row is written alone, not rejected on PostgreSQL's word: the
      // context a line is read from may quote a value, which could forge one.
      insert_rows(conn, b, bad, bad + 1);
      from = bad + 1;
      continue;
    }
    size_t mid = from + (to - from) / 2;
    insert_rows(conn, b, from, mid);
    from = mid;
  }
}

// The staged rows [from, to) go into the target; when PostgreSQL refuses a
// row, they are merged again row by row.
void BatchWriter::merge_staged(PGconn* conn, EncodedBatch& b, size_t from, size_t to) {
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
  upsert_rows(conn, b, from, to);
}

// One row at a time, to find the rows PostgreSQL refuses (slow, rare).
void BatchWriter::upsert_rows(PGconn* conn, EncodedBatch& b, size_t from, size_t to) {
  for (size_t i = from; i < to; ++i) {
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

// Rows [from, to) in a transaction whose COPY of them has not started.
void BatchWriter::write_rows(PGconn* conn, EncodedBatch& b, size_t from, size_t to) {
  if (from == to) return;
  if (!settings_.upsert) return insert_rows(conn, b, from, to);
  exec(conn, "SAVEPOINT sluice_stage");
  if (copy_rows(conn, copy_stage_sql_, b, from, to).ok) {
    exec(conn, "RELEASE SAVEPOINT sluice_stage");
    return merge_staged(conn, b, from, to);
  }
  exec(conn, "ROLLBACK TO SAVEPOINT sluice_stage");
  upsert_rows(conn, b, from, to);
}

bool BatchWriter::advance_offsets(PGconn* conn, OffsetStore& offsets, const std::map<int32_t, int64_t>& next) {
  StepTimer timer(timings_, WriteStep::offsets);
  return offsets.advance(conn, next);
}

void BatchWriter::begin(PGconn* conn) {
  StepTimer timer(timings_, WriteStep::begin);
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

// The rejects of messages [from, to). Every text is made storable first
// (pg_text.h): a reason may quote any bytes, and one the server refused
// would fail the batch on every restart. Key and value go as bytea, exactly.
void BatchWriter::write_rejects(PGconn* conn, const EncodedBatch& b, std::span<const sluice::Message> messages,
                                size_t from, size_t to) {
  StepTimer timer(timings_, WriteStep::rejects);
  std::string data, group, topic;
  append_copy_text(group, storable_text(settings_.group));
  for (const auto& reject : b.rejects) {
    if (reject.message < from || reject.message >= to) continue;
    const sluice::Message& m = messages[reject.message];
    topic.clear();
    append_copy_text(topic, storable_text(m.topic));
    data += group + '\t' + topic + '\t' + std::to_string(m.partition) + '\t' + std::to_string(m.offset) + '\t';
    if (m.has_key) append_hex_bytea(data, m.key.data(), m.key.size());
    else data += "\\N";
    data += '\t';
    append_hex_bytea(data, m.value.data(), m.value.size());
    data += '\t';
    append_copy_text(data, storable_text(reject.reason, kMaxReasonBytes));
    data += '\n';
  }
  if (data.empty()) return;
  std::string sql = "COPY " + settings_.rejects_table +
                    " (consumer_group, topic, partition, \"offset\", key, raw_value, reason) FROM STDIN";
  PgResult start(PQexec(conn, sql.c_str()));
  if (PQresultStatus(start.get()) != PGRES_COPY_IN) raise_pg_error(conn, start.get(), "starting COPY of rejects");
  send(conn, data);
  if (PQputCopyEnd(conn, nullptr) != 1) raise_pg_error(conn, nullptr, "sending rejects");
  PgResult r(PQgetResult(conn));
  if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) raise_pg_error(conn, r.get(), "writing rejects");
  while (PgResult more{PQgetResult(conn)}) {}
}

// COMMIT: true when done; false when a deferred constraint refused it (the
// server then rolled it back), with PostgreSQL's message in `refused`.
bool BatchWriter::commit(PGconn* conn, std::string& refused) {
  StepTimer timer(timings_, WriteStep::commit);
  PgResult r(PQexec(conn, "COMMIT"));
  if (PQresultStatus(r.get()) == PGRES_COMMAND_OK) return true;
  if (!is_row_error(sqlstate(r.get()))) raise_pg_error(conn, r.get(), "COMMIT");
  refused = pg_row_message(r.get());
  return false;
}

// Messages [from, to) in a transaction of their own: rows, rejects, offsets.
BatchWriter::PartOutcome BatchWriter::commit_part(PGconn* conn, EncodedBatch& b,
                                                  std::span<const sluice::Message> messages, OffsetStore& offsets,
                                                  size_t from, size_t to, bool immediate, std::string& refused) {
  const size_t rejects_before = b.rejects.size();
  exec(conn, "BEGIN");
  if (immediate) exec(conn, "SET CONSTRAINTS ALL IMMEDIATE");
  auto first_row = [&](size_t message) {
    return static_cast<size_t>(std::lower_bound(b.row_message.begin(), b.row_message.end(), message) -
                               b.row_message.begin());
  };
  write_rows(conn, b, first_row(from), first_row(to));
  write_rejects(conn, b, messages, from, to);
  const auto next = offsets_after(messages, from, to, offsets.expected());
  if (!advance_offsets(conn, offsets, next)) {
    exec(conn, "ROLLBACK");
    return PartOutcome::fenced;
  }
  if (!commit(conn, refused)) {
    b.rejects.resize(rejects_before);  // found again when the part is written again
    return PartOutcome::refused;
  }
  offsets.committed(next);
  return PartOutcome::committed;
}

// Messages [from, to) were refused at COMMIT as one transaction (a deferred
// constraint). Its halves are committed one after the other, each in a
// transaction of its own with its rows, rejects and the offsets past it, so
// exactly once holds; a half refused again is halved in turn. A part that
// cannot be cut (one record, or the outputs of one record) is written with
// every constraint checked at once, so that the savepoints find the rows
// PostgreSQL refuses. Rows that rely on deferral keep it, unless the cut
// parts them.
BatchWriter::Outcome BatchWriter::commit_in_parts(PGconn* conn, EncodedBatch& b,
                                                  std::span<const sluice::Message> messages, OffsetStore& offsets,
                                                  size_t from, size_t to) {
  std::string refused;
  const size_t mid = split_point(messages, from, to);
  if (mid == from) {
    const PartOutcome part = commit_part(conn, b, messages, offsets, from, to, true, refused);
    if (part == PartOutcome::fenced) return Outcome::fenced;
    if (part == PartOutcome::refused)
      throw sluice::Error(sluice::ErrorClass::fatal, "COMMIT refused offsets " + std::to_string(messages[from].offset) +
                                                         ".. even with every constraint checked at once: " + refused);
    return Outcome::committed;
  }
  for (auto [lo, hi] : {std::pair{from, mid}, std::pair{mid, to}}) {
    const PartOutcome part = commit_part(conn, b, messages, offsets, lo, hi, false, refused);
    if (part == PartOutcome::fenced) return Outcome::fenced;
    if (part == PartOutcome::refused && commit_in_parts(conn, b, messages, offsets, lo, hi) == Outcome::fenced)
      return Outcome::fenced;
  }
  return Outcome::committed;
}

BatchWriter::Outcome BatchWriter::finish(PGconn* conn, EncodedBatch& batch, std::span<const sluice::Message> messages,
                                        OffsetStore& offsets, const std::map<int32_t, int64_t>& next) {
  const size_t encoded_rejects = batch.rejects.size();
  send(conn, std::string_view(batch.rows).substr(sent_));
  sent_ = batch.rows.size();
  CopyResult copied = end_copy(conn);
  if (!copied.ok) {
    // The refused row aborted the transaction: start again, isolating rows.
    exec(conn, "ROLLBACK");
    exec(conn, "BEGIN");
    if (settings_.upsert)
      upsert_rows(conn, batch, 0, batch.row_end.size());
    else
      insert_rows(conn, batch, 0, batch.row_end.size());
  } else if (settings_.upsert) {
    merge_staged(conn, batch, 0, batch.row_end.size());
  }
  write_rejects(conn, batch, messages, 0, messages.size());
  if (!advance_offsets(conn, offsets, next)) {
    exec(conn, "ROLLBACK");
    return Outcome::fenced;
  }
  std::string refused;
  if (!commit(conn, refused)) {
    spdlog::warn("COMMIT refused a batch of {} records ({}): committing it again in parts to find the rows",
                 messages.size(), refused);
    batch.rejects.resize(encoded_rejects);  // those found by isolating rows are found again
    return commit_in_parts(conn, batch, messages, offsets, 0, messages.size());
  }
  offsets.committed(next);
  return Outcome::committed;
}

}  // namespace pgsink
