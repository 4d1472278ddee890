/* push_to_postgres: a C program that embeds sluice, pushes N JSON records
 * into a pipeline (a host source -> the embedded broker -> the postgres
 * sink) and then checks in PostgreSQL that every one arrived exactly once.
 *
 *   psql "$PG_URI" -f push_to_postgres.sql
 *   PG_URI=postgresql://... ./push_to_postgres [PIPELINE.toml [N]]
 *
 * PIPELINE.toml defaults to push_to_postgres.toml, N to 100000. The
 * conninfo comes from $PG_URI (the pipeline reads the same variable).
 * Exit 0: count = N and count(DISTINCT id) = N for this run; 1: not, or a
 * failure; 2: bad usage or configuration. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sluice.h>

#define SOURCE "app"
#define SINK "store"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Prints and frees an error; returns `rc` so that callers can `return fail(...)`. */
static int fail(const char* what, sluice_error* err, int rc) {
  fprintf(stderr, "push_to_postgres: %s: %s\n", what, err ? sluice_error_message(err) : "(no detail)");
  sluice_error_free(err);
  return rc;
}

/* Pushes one record, waiting while the source's queue is full: a push
 * with a timeout returns SLUICE_ERROR_AGAIN when Kafka has not made room
 * yet, which is back-pressure, not a failure. */
static int push_one(sluice_pipeline* p, const char* json, uint64_t* agains) {
  sluice_record record;
  memset(&record, 0, sizeof record);
  record.struct_size = sizeof record;
  record.value = json;
  record.value_len = strlen(json);
  for (;;) {
    sluice_error* err = NULL;
    int rc = sluice_pipeline_push(p, SOURCE, &record, 1000, &err);
    if (rc == 0) return 0;
    if (rc != SLUICE_ERROR_AGAIN) return fail("push", err, 1);
    sluice_error_free(err);
    ++*agains;
  }
}

/* count(*) and count(DISTINCT id) of this run's rows, and the range of ids. */
static int check_postgres(const char* conninfo, const char* run, uint64_t n) {
  PGconn* conn = PQconnectdb(conninfo);
  if (PQstatus(conn) != CONNECTION_OK) {
    fprintf(stderr, "push_to_postgres: connect: %s", PQerrorMessage(conn));
    PQfinish(conn);
    return 1;
  }
  const char* params[1] = {run};
  PGresult* res = PQexecParams(conn,
                               "SELECT count(*), count(DISTINCT id), coalesce(min(id), -1), coalesce(max(id), -1)"
                               " FROM embed_events WHERE run = $1",
                               1, NULL, params, NULL, NULL, 0);
  int rc = 1;
  if (PQresultStatus(res) != PGRES_TUPLES_OK) {
    fprintf(stderr, "push_to_postgres: query: %s", PQerrorMessage(conn));
  } else {
    uint64_t rows = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
    uint64_t distinct = strtoull(PQgetvalue(res, 0, 1), NULL, 10);
    long long lo = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
    long long hi = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
    int ok = rows == n && distinct == n && (n == 0 || (lo == 0 && hi == (long long)n - 1));
    printf("postgres: run %s: %" PRIu64 " rows, %" PRIu64 " distinct ids (%lld..%lld), expected %" PRIu64
           ": %s\n",
           run, rows, distinct, lo, hi, n, ok ? "every id exactly once" : "MISMATCH");
    rc = ok ? 0 : 1;
  }
  PQclear(res);
  PQfinish(conn);
  return rc;
}

int main(int argc, char** argv) {
  const char* path = argc > 1 ? argv[1] : "push_to_postgres.toml";
  uint64_t n = argc > 2 ? strtoull(argv[2], NULL, 10) : 100000;
  const char* conninfo = getenv("PG_URI");
  if (argc > 3 || !conninfo || !*conninfo) {
    fprintf(stderr, "usage: PG_URI=conninfo %s [PIPELINE.toml [N]]\n", argv[0]);
    return 2;
  }

  sluice_error* err = NULL;
  sluice_pipeline* p = sluice_pipeline_from_file(path, NULL, &err);
  if (!p) return fail("load", err, 2);
  int started = sluice_pipeline_start(p, &err);
  if (started != 0) {
    sluice_pipeline_free(p);
    return fail("start", err, started == SLUICE_ERROR_CONFIG ? 2 : 1);
  }

  /* A token that tells this run's rows from those of earlier runs. */
  char run[64];
  snprintf(run, sizeof run, "%ld-%ld", (long)time(NULL), (long)getpid());
  double t0 = now_s();
  uint64_t agains = 0;
  char json[160];
  for (uint64_t i = 0; i < n; ++i) {
    snprintf(json, sizeof json, "{\"run\":\"%s\",\"id\":%" PRIu64 ",\"payload\":\"record %" PRIu64 "\"}", run, i,
             i);
    if (push_one(p, json, &agains) != 0) {
      sluice_pipeline_free(p);
      return 1;
    }
  }
  double pushed = now_s() - t0;

  /* No more records: the source ends once Kafka has them, the sink once it
   * has stored them, and then the run. */
  if (sluice_pipeline_close_source(p, SOURCE, &err) != 0) {
    sluice_pipeline_free(p);
    return fail("close source", err, 1);
  }
  int rc = sluice_pipeline_wait(p, -1, &err);
  if (rc != 0) {
    sluice_pipeline_free(p);
    return fail("run", err, 1);
  }
  sluice_step_counters sink;
  sluice_step_counters_init(&sink);
  if (sluice_pipeline_counters(p, SINK, &sink, &err) != 0) {
    sluice_pipeline_free(p);
    return fail("counters", err, 1);
  }
  printf("pushed %" PRIu64 " records in %.2f s (%" PRIu64 " waits for room), sink stored %" PRIu64
         ", rejected %" PRIu64 ", all done in %.2f s\n",
         n, pushed, agains, sink.records_out, sink.rejected, now_s() - t0);
  sluice_pipeline_free(p);

  return check_postgres(conninfo, run, n);
}
