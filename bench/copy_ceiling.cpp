// The ceiling for the PostgreSQL sink: raw libpq COPY FROM STDIN (text) of
// rows formatted before the clock starts, 100k rows per transaction.
// Usage: copy_ceiling CONNINFO TABLE ROWS.copy   -> prints rows/s
#include <libpq-fe.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace {
struct PgDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
  void operator()(PGresult* r) const { PQclear(r); }
};
using Conn = std::unique_ptr<PGconn, PgDeleter>;
using Result = std::unique_ptr<PGresult, PgDeleter>;

bool exec(PGconn* c, const std::string& sql) {
  Result r(PQexec(c, sql.c_str()));
  if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
    std::fprintf(stderr, "%s: %s", sql.c_str(), PQerrorMessage(c));
    return false;
  }
  return true;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: copy_ceiling CONNINFO TABLE ROWS.copy\n");
    return 2;
  }
  std::ifstream in(argv[3]);
  std::vector<std::string> chunks;  // 100k pre-formatted rows each
  std::string line, chunk;
  size_t rows = 0, in_chunk = 0;
  while (std::getline(in, line)) {
    chunk += line;
    chunk += '\n';
    ++rows;
    if (++in_chunk == 100000) chunks.push_back(std::move(chunk)), chunk.clear(), in_chunk = 0;
  }
  if (!chunk.empty()) chunks.push_back(std::move(chunk));
  Conn conn(PQconnectdb(argv[1]));
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    std::fprintf(stderr, "%s", PQerrorMessage(conn.get()));
    return 1;
  }
  std::string copy = std::string("COPY ") + argv[2] + " FROM STDIN";
  auto start = std::chrono::steady_clock::now();
  for (const auto& c : chunks) {
    if (!exec(conn.get(), "BEGIN")) return 1;
    Result r(PQexec(conn.get(), copy.c_str()));
    if (PQresultStatus(r.get()) != PGRES_COPY_IN) return std::fprintf(stderr, "%s", PQerrorMessage(conn.get())), 1;
    if (PQputCopyData(conn.get(), c.data(), static_cast<int>(c.size())) != 1 || PQputCopyEnd(conn.get(), nullptr) != 1)
      return std::fprintf(stderr, "%s", PQerrorMessage(conn.get())), 1;
    Result done(PQgetResult(conn.get()));
    if (PQresultStatus(done.get()) != PGRES_COMMAND_OK) return std::fprintf(stderr, "%s", PQerrorMessage(conn.get())), 1;
    while (Result more{PQgetResult(conn.get())}) {}
    if (!exec(conn.get(), "COMMIT")) return 1;
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%.0f\n", static_cast<double>(rows) / seconds);
  return 0;
}
