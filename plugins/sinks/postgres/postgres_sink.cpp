// Sink `postgres`: rows into a PostgreSQL table by COPY, exactly once. Each
// batch's rows, rejects and Kafka offsets commit in one transaction; the
// offsets advance by compare-and-set, so a fenced instance cannot commit.
#include <chrono>
#include <optional>

#include <spdlog/spdlog.h>

#include "batch_writer.h"
#include "conninfo_check.h"
#include "connect_probe.h"
#include "identifiers.h"
#include "offset_store.h"
#include "pg_handles.h"
#include "row_encoder.h"
#include "sluice/error.h"
#include "sluice/plugin_info.h"
#include "sluice/retry.h"
#include "table_schema.h"

namespace {

using sluice::Error;
using sluice::ErrorClass;
using sluice::errc;
using namespace pgsink;

struct PgSinkConfig {
  std::string conninfo, table, mode, rejects_table, offsets_table, copy_format;
  sluice::StringMap columns;
  std::vector<std::string> key_columns;
};

// Reading the stored offsets happens inside Kafka's rebalance callback:
// retried a bounded while (about 4 minutes, under max.poll.interval.ms),
// and cut short by a stop request.
const sluice::RetryPolicy kLoadOffsetsRetry{{std::chrono::milliseconds(100), std::chrono::seconds(10)}, 30};

// How the sink will write, from the catalog: read without changing anything,
// so that `sluice check` can run it too.
struct TablePlan {
  TableSchema schema;
  CopyFormat format;
};

TablePlan plan_table(PGconn* conn, const PgSinkConfig& config) {
  if (config.mode == "upsert" && config.key_columns.empty())
    throw Error(errc::config, "postgres sink: mode = \"upsert\" needs key_columns");
  TablePlan plan{read_table_schema(conn, config.table, config.columns), CopyFormat::binary};
  for (const auto& k : config.key_columns) {
    bool mapped = false;
    for (const auto& c : plan.schema.columns) mapped |= c.name == k;
    if (!mapped) throw Error(errc::config, "key_columns: `" + k + "` is not a mapped column of " + plan.schema.table);
  }
  const Column* text_only = column_without_binary_form(plan.schema.columns);
  if (config.copy_format == "binary" && text_only)
    throw Error(errc::config, "copy_format = \"binary\": column " + text_only->name + " (" + text_only->type +
                                        ") has no binary form in sluice; use \"auto\" or \"text\"");
  if (config.copy_format == "text" || text_only) plan.format = CopyFormat::text;
  return plan;
}

PgConn connect(const std::string& conninfo, const char* connect_timeout = nullptr) {
  // conninfo may be a key=value string or a URI: expand it as dbname, then
  // let a later connect_timeout override its own.
  const char* keys[] = {"dbname", connect_timeout ? "connect_timeout" : nullptr, nullptr};
  const char* values[] = {conninfo.c_str(), connect_timeout, nullptr};
  PgConn conn(PQconnectdbParams(keys, values, 1));
  if (PQstatus(conn.get()) != CONNECTION_OK)
    // The message names host and cause, never the password.
    throw Error(errc::unavailable, "connecting to PostgreSQL: " + pg_message(nullptr, conn.get()));
  // Server notices ("relation already exists, skipping") are not for the user's terminal.
  PQsetNoticeProcessor(conn.get(), [](void*, const char*) {}, nullptr);
  PgResult(PQexec(conn.get(), "SET application_name = 'sluice'"));
  return conn;
}

// The sink's own metrics; none when the context has no registry.
struct PgMetrics {
  explicit PgMetrics(const sluice::PluginContext& ctx) {
    if (!ctx.metrics) return;
    const sluice::metrics::Labels labels{{"step", ctx.name}};
    copy = &ctx.metrics->histogram("sluice_sink_copy_seconds",
                                   "Time a batch's rows took to stream and finish by COPY into PostgreSQL", labels,
                                   sluice::metrics::duration_buckets());
    commit = &ctx.metrics->histogram("sluice_sink_commit_seconds", "Time PostgreSQL took to COMMIT a batch", labels,
                                     sluice::metrics::duration_buckets());
    reconnects = &ctx.metrics->counter("sluice_sink_reconnects_total",
                                       "Connections to PostgreSQL made again after the first", labels);
  }
  sluice::metrics::Histogram *copy = nullptr, *commit = nullptr;
  sluice::metrics::Counter* reconnects = nullptr;
};

class PostgresSink : public sluice::Sink {
 public:
  PostgresSink(const PgSinkConfig& config, const sluice::PluginContext& ctx)
      : config_(config), offsets_(config.offsets_table, ctx.group, ctx.topic), metrics_(ctx) {
    PGconn* conn = connection();
    TablePlan plan = plan_table(conn, config_);
    schema_ = plan.schema;
    encoder_ = std::make_unique<RowEncoder>(schema_.columns, plan.format);
    writer_ = std::make_unique<BatchWriter>(schema_, WriteSettings{plan.format, quote_qualified(config_.rejects_table),
                                                                   ctx.group, config_.mode == "upsert",
                                                                   config_.key_columns});
    offsets_.ensure_table(conn);
    writer_->ensure_rejects_table(conn);
    spdlog::info("{}: writing into {} by {} COPY", ctx.name, schema_.table,
                 plan.format == CopyFormat::binary ? "binary" : "text");
  }

  static void probe(const PgSinkConfig& config, const sluice::PluginContext&) {
    plan_table(connect(config.conninfo, "5").get(), config);
  }

  // `check --connect`: one line per check, nothing created or written.
  static std::vector<sluice::ProbeLine> probe_connect(const PgSinkConfig& config, const sluice::PluginContext&,
                                                      const sluice::ConnectProbe& probe) {
    std::vector<sluice::ProbeLine> lines;
    // libpq counts whole seconds, at least 2.
    const std::string seconds = std::to_string(std::max<int64_t>(2, (probe.timeout.count() + 999) / 1000));
    PgConn conn;
    try {
      conn = connect(config.conninfo, seconds.c_str());
    } catch (const Error& e) {
      return {{false, e.what()}};
    }
    lines.push_back(describe_connection(conn.get()));
    limit_statements(conn.get(), probe.timeout);
    try {
      const TablePlan plan = plan_table(conn.get(), config);
      lines.push_back(try_recent_records(plan.schema, plan.format, probe));
      lines.push_back(check_target_privileges(conn.get(), plan.schema, config.mode == "upsert"));
    } catch (const Error& e) {
      lines.push_back({false, e.what()});
    }
    lines.push_back(check_own_table(conn.get(), "offsets_table", config.offsets_table, kOffsetsTableColumns,
                                    "SELECT, INSERT, UPDATE"));
    lines.push_back(check_own_table(conn.get(), "rejects_table", config.rejects_table, kRejectsTableColumns, "INSERT"));
    return lines;
  }

  std::map<int32_t, int64_t> on_assign(const std::string&, const std::vector<int32_t>& partitions,
                                       const std::map<int32_t, int64_t>&) override {
    // Where to start is PostgreSQL's to say, never Kafka's.
    return sluice::retry([&] { return offsets_.load(connection(), partitions); }, stop_token(), kLoadOffsetsRetry,
                         [this](const Error& e, int failures) {
                           if (failures == 1)
                             spdlog::warn("reading stored offsets failed, retrying with backoff: {}", e.what());
                           drop_connection();
                         });
  }

  ~PostgresSink() override {
    const WriteTimings& t = writer_->timings();
    if (t.batches()) spdlog::debug("postgres sink: {} rows in {} batches: {}", t.rows(), t.batches(), t.totals());
  }

  bool keeps_rejects() const override { return true; }

  std::optional<sluice::SinkWriteReport> last_write() const override { return report_; }

  void on_revoke(const std::string&, const std::vector<int32_t>& partitions) override { offsets_.forget(partitions); }

  void write(std::span<const sluice::Message> batch) override {
    PGconn* conn = connection();
    report_.reset();
    try {
      writer_->begin(conn);
      encode(conn, batch);
      const size_t encode_rejects = encoded_.rejects.size();
      const auto outcome = writer_->finish(conn, encoded_, batch, offsets_, next_);
      WriteTimings& timings = writer_->timings();
      if (outcome == BatchWriter::Outcome::committed) report(batch, encode_rejects, timings);
      timings.end_batch(encoded_.row_end.size());
      spdlog::debug("postgres sink: batch of {} rows: {}", encoded_.row_end.size(), timings.last_batch());
      if (outcome == BatchWriter::Outcome::fenced)
        throw Error(errc::fenced, "the stored offsets of " + describe(next_) +
                                            " are not what this instance expected (another instance wrote "
                                            "them, or an earlier commit's outcome was not received)");
    } catch (const Error& e) {
      if (e.error_class() == ErrorClass::retriable) {
        drop_connection();
        // Shown as the sink's state reason (/ready): it must say what failed.
        throw Error(ErrorClass::retriable, std::string("PostgreSQL: ") + e.what());
      }
      if (PQstatus(conn) == CONNECTION_OK) PgResult(PQexec(conn, "ROLLBACK"));
      throw;
    }
  }

 private:
  PGconn* connection() {
    if (conn_ && PQstatus(conn_.get()) == CONNECTION_OK) return conn_.get();
    conn_.reset();
    conn_ = connect(config_.conninfo);
    if (connected_once_ && metrics_.reconnects) metrics_.reconnects->add();
    connected_once_ = true;
    return conn_.get();
  }

  // What a committed batch did, for the runner's metrics: rejects found while
  // encoding are a column's (or a transform's), those found by COPY or COMMIT
  // the database's constraints.
  void report(std::span<const sluice::Message> batch, size_t encode_rejects, const WriteTimings& timings) {
    report_rejects_.clear();
    size_t refused_rows = 0;
    for (size_t i = 0; i < encoded_.rejects.size(); ++i) {
      const auto& r = encoded_.rejects[i];
      const bool transform = !batch[r.message].reject_reason.empty();
      refused_rows += i >= encode_rejects;
      report_rejects_.push_back({r.message, transform ? "transform" : i < encode_rejects ? "column" : "constraint", r.reason});
    }
    report_ = sluice::SinkWriteReport{encoded_.row_end.size() - std::min(refused_rows, encoded_.row_end.size()),
                                      report_rejects_};
    using Seconds = std::chrono::duration<double>;
    if (metrics_.copy)
      metrics_.copy->observe(Seconds(timings.in_batch(WriteStep::send) + timings.in_batch(WriteStep::copy_end)).count());
    if (metrics_.commit) metrics_.commit->observe(Seconds(timings.in_batch(WriteStep::commit)).count());
  }

  void drop_connection() { conn_.reset(); }

  // Decodes every message once, straight into COPY text; records that are
  // already stored (offset below what we expect) are skipped.
  void encode(PGconn* conn, std::span<const sluice::Message> batch) {
    encoded_.clear();
    next_.clear();
    // The encode step's time is the loop's, less the sending it does.
    WriteTimings& timings = writer_->timings();
    const auto sent_before = timings.in_batch(WriteStep::send);
    const auto loop_start = WriteTimings::Clock::now();
    const auto& expected = offsets_.expected();
    std::string reason;
    // Records come in runs of one partition: its two lookups are made once a run.
    std::optional<int32_t> partition;
    const std::optional<int64_t>* stored = nullptr;
    auto next = next_.end();
    for (size_t i = 0; i < batch.size(); ++i) {
      const sluice::Message& m = batch[i];
      if (m.partition != partition) {
        auto it = expected.find(m.partition);
        if (it == expected.end())
          throw Error(errc::fenced, "a record of " + std::string(m.topic) + "/" + std::to_string(m.partition) +
                                              " arrived but the partition is not assigned here");
        partition = m.partition;
        stored = &it->second;
        next = next_.find(m.partition);
      }
      // Below the stored offset: already committed by an earlier batch.
      if (*stored && m.offset < **stored) continue;
      // Redelivered within the batch (a split's records share one offset).
      if (next != next_.end() && m.offset < next->second - 1) continue;
      if (m.dropped) {
        // Nothing to write; the offset still advances.
      } else if (!m.reject_reason.empty()) {
        encoded_.rejects.push_back({i, std::string(m.reject_reason)});
      } else if (encoder_->encode(m.value, encoded_.rows, reason)) {
        encoded_.row_end.push_back(encoded_.rows.size());
        encoded_.row_message.push_back(i);
        writer_->feed(conn, encoded_);
      } else {
        encoded_.rejects.push_back({i, reason});
      }
      if (next == next_.end()) next = next_.emplace(m.partition, 0).first;
      next->second = m.offset + 1;
    }
    timings.add(WriteStep::encode, loop_start);
    timings.subtract(WriteStep::encode, timings.in_batch(WriteStep::send) - sent_before);
  }

  static std::string describe(const std::map<int32_t, int64_t>& next) {
    std::string out;
    for (const auto& [p, o] : next) out += (out.empty() ? "partition " : ", ") + std::to_string(p) + "->" + std::to_string(o);
    return out;
  }

  PgSinkConfig config_;
  PgConn conn_;
  TableSchema schema_;
  OffsetStore offsets_;
  std::unique_ptr<RowEncoder> encoder_;
  std::unique_ptr<BatchWriter> writer_;
  EncodedBatch encoded_;
  std::map<int32_t, int64_t> next_;
  PgMetrics metrics_;
  bool connected_once_ = false;
  std::vector<sluice::SinkReject> report_rejects_;
  std::optional<sluice::SinkWriteReport> report_;
};

}  // namespace

sluice::PluginInfo sluice_builtin_postgres() {
  static const auto options = sluice::Options<PgSinkConfig>()
    .string("conninfo", &PgSinkConfig::conninfo,
            "libpq conninfo or postgres:// URI (sslmode, sslrootcert, sslcert, sslkey...)").required().secret()
      .validate(check_conninfo)
    .string("table", &PgSinkConfig::table, "target table, schema-qualified if needed").required()
    .string_map("columns", &PgSinkConfig::columns,
                "column = record field path (dots for nesting; \".\" is the whole record, e.g. for a jsonb "
                "column); default: every column without a default, from the same-named field")
    .string("mode", &PgSinkConfig::mode, "insert, or upsert on key_columns").def("insert")
      .choices({"insert", "upsert"})
    .string_list("key_columns", &PgSinkConfig::key_columns, "conflict key of upsert mode")
    .string("rejects_table", &PgSinkConfig::rejects_table, "dead-letter table, created if missing")
      .def("sluice_rejects")
    .string("offsets_table", &PgSinkConfig::offsets_table, "Kafka offsets table, created if missing")
      .def("sluice_offsets")
    .string("copy_format", &PgSinkConfig::copy_format,
            "COPY data format: auto (binary unless a column is numeric or of a type without a binary "
            "form here), binary, or text").def("auto").choices({"auto", "binary", "text"})
    .check([](const PgSinkConfig& c) -> sluice::OptionProblem {
      if (c.mode == "upsert" && c.key_columns.empty()) return {"mode", "mode = \"upsert\" needs key_columns"};
      return {};
    });
  return sluice::sink_plugin<PostgresSink>(
      "postgres", "writes rows into a PostgreSQL table by COPY, exactly once (rows, rejects and offsets in one "
                  "transaction)", options);
}
