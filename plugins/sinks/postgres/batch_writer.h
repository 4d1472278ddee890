// Writes one batch in ONE transaction: its rows by COPY (a row PostgreSQL
// refuses is isolated and rejected with PostgreSQL's message, the rest still
// land), its rejects, and the compare-and-set of its offsets. A batch that a
// deferred constraint refuses at COMMIT is committed again in parts, each
// with its offsets, down to the refused rows.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include <libpq-fe.h>

#include "copy_format.h"
#include "offset_store.h"
#include "sluice/message.h"
#include "table_schema.h"
#include "write_timings.h"

namespace pgsink {

// The rejects table's definition, as created; `check --connect` verifies an
// existing table against the same text.
inline constexpr const char* kRejectsTableColumns =
    "id bigserial PRIMARY KEY, consumer_group text NOT NULL, topic text NOT NULL, "
    "partition integer NOT NULL, \"offset\" bigint NOT NULL, key bytea, raw_value bytea NOT NULL, "
    "reason text NOT NULL, rejected_at timestamptz NOT NULL DEFAULT now()";

struct EncodedBatch {
  std::string rows;                 // COPY data of the rows, without header and trailer
  std::vector<size_t> row_end;      // row i is rows[row_end[i-1] .. row_end[i])
  std::vector<size_t> row_message;  // row i came from message row_message[i]
  struct Reject {
    size_t message;
    std::string reason;
  };
  std::vector<Reject> rejects;

  void clear() {
    rows.clear();
    row_end.clear();
    row_message.clear();
    rejects.clear();
  }
};

struct WriteSettings {
  CopyFormat format = CopyFormat::text;
  std::string rejects_table;  // quoted
  std::string group;
  bool upsert = false;
  std::vector<std::string> key_columns;
};

class BatchWriter {
 public:
  BatchWriter(const TableSchema& schema, WriteSettings settings);

  void ensure_rejects_table(PGconn* conn) const;

  // A batch is written in three steps so that PostgreSQL parses rows while
  // the next ones are still being decoded: begin() opens the transaction and
  // a COPY, feed() streams the rows encoded so far, finish() ends the COPY
  // (isolating refused rows if any), writes the rejects, advances the
  // offsets by CAS and commits (in parts, when COMMIT refuses the batch). Each throws sluice::Error (retriable for
  // connection trouble); the server then rolls the transaction back.
  enum class Outcome { committed, fenced };
  WriteTimings& timings() { return timings_; }
  void begin(PGconn* conn);
  void feed(PGconn* conn, const EncodedBatch& batch);
  Outcome finish(PGconn* conn, EncodedBatch& batch, std::span<const sluice::Message> messages,
                 OffsetStore& offsets, const std::map<int32_t, int64_t>& next);

 private:
  struct CopyResult {
    bool ok = true;
    std::string message;  // PostgreSQL's, when a row was refused
    long line = 0;        // 1-based line of COPY data it refused, 0: unknown
  };
  CopyResult copy_rows(PGconn* conn, const std::string& copy_sql, const EncodedBatch& b, size_t from, size_t to);
  void send(PGconn* conn, std::string_view data);
  void start_copy(PGconn* conn, const std::string& copy_sql);
  CopyResult end_copy(PGconn* conn);
  // Rows are numbered as in EncodedBatch; messages as in the batch.
  void insert_rows(PGconn* conn, EncodedBatch& batch, size_t from, size_t to);
  void upsert_rows(PGconn* conn, EncodedBatch& batch, size_t from, size_t to);
  void merge_staged(PGconn* conn, EncodedBatch& batch, size_t from, size_t to);
  void write_rows(PGconn* conn, EncodedBatch& batch, size_t from, size_t to);
  void write_rejects(PGconn* conn, const EncodedBatch& batch, std::span<const sluice::Message> messages, size_t from,
                     size_t to);
  bool commit(PGconn* conn, std::string& refused);
  enum class PartOutcome { committed, fenced, refused };
  PartOutcome commit_part(PGconn* conn, EncodedBatch& batch, std::span<const sluice::Message> messages,
                          OffsetStore& offsets, size_t from, size_t to, bool immediate, std::string& refused);
  Outcome commit_in_parts(PGconn* conn, EncodedBatch& batch, std::span<const sluice::Message> messages,
                          OffsetStore& offsets, size_t from, size_t to);
  void exec(PGconn* conn, const std::string& sql);
  bool advance_offsets(PGconn* conn, OffsetStore& offsets, const std::map<int32_t, int64_t>& next);

  TableSchema schema_;
  WriteSettings settings_;
  std::string copy_target_sql_, copy_stage_sql_, merge_sql_;
  WriteTimings timings_;
  size_t sent_ = 0;  // bytes of the batch's rows already streamed
};

}  // namespace pgsink
