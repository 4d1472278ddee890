// The ceiling for the PostgreSQL sink: raw libpq COPY FROM STDIN of rows
// prepared before the clock starts, all in one COPY and one transaction, as
// `psql \copy` does. FORMAT csv sends the CSV file as it is; binary encodes
// it first into PostgreSQL's binary COPY format, by the table's column types
// (smallint, integer, bigint, real, double precision).
// The time runs from BEGIN to the commit, like psql's \timing of \copy.
// Usage: copy_ceiling csv|binary CONNINFO TABLE ROWS.csv   -> prints rows/s
#include <libpq-fe.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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

bool exec(PGconn* c, const std::string& sql, ExecStatusType want = PGRES_COMMAND_OK) {
  Result r(PQexec(c, sql.c_str()));
  if (PQresultStatus(r.get()) != want) {
    std::fprintf(stderr, "%s: %s", sql.c_str(), PQerrorMessage(c));
    return false;
  }
  return true;
}

// The column types of TABLE, in order, as regtype names.
bool column_types(const char* conninfo, const char* table, std::vector<std::string>& types) {
  Conn conn(PQconnectdb(conninfo));
  if (PQstatus(conn.get()) != CONNECTION_OK) return std::fprintf(stderr, "%s", PQerrorMessage(conn.get())), false;
  const char* sql =
      "SELECT atttypid::regtype::text FROM pg_attribute "
      "WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum";
  Result r(PQexecParams(conn.get(), sql, 1, nullptr, &table, nullptr, nullptr, 0));
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) return std::fprintf(stderr, "%s", PQerrorMessage(conn.get())), false;
  for (int i = 0; i < PQntuples(r.get()); ++i) types.emplace_back(PQgetvalue(r.get(), i, 0));
  return true;
}

template <typename T>
void put_be(std::string& out, T value) {  // big-endian, as binary COPY wants
  unsigned char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  for (size_t i = sizeof(T); i-- > 0;) out.push_back(static_cast<char>(bytes[i]));
}

// One binary COPY field from its CSV text: its length, then its bytes.
bool put_field(std::string& out, const std::string& type, const std::string& text) {
  const char* s = text.c_str();
  if (type == "bigint") {
    put_be<int32_t>(out, 8);
    put_be<int64_t>(out, std::strtoll(s, nullptr, 10));
  } else if (type == "integer") {
    put_be<int32_t>(out, 4);
    put_be<int32_t>(out, static_cast<int32_t>(std::strtol(s, nullptr, 10)));
  } else if (type == "smallint") {
    put_be<int32_t>(out, 2);
    put_be<int16_t>(out, static_cast<int16_t>(std::strtol(s, nullptr, 10)));
  } else if (type == "double precision") {
    put_be<int32_t>(out, 8);
    put_be<double>(out, std::strtod(s, nullptr));
  } else if (type == "real") {
    put_be<int32_t>(out, 4);
    put_be<float>(out, std::strtof(s, nullptr));
  } else {
    std::fprintf(stderr, "copy_ceiling: no binary encoding here for type %s\n", type.c_str());
    return false;
  }
  return true;
}

bool encode_binary(std::ifstream& in, const std::vector<std::string>& types, std::string& out, size_t& rows) {
  static const char kHeader[] = "PGCOPY\n\377\r\n";  // the signature, 11 bytes with its NUL
  out.append(kHeader, sizeof kHeader);
  put_be<int32_t>(out, 0);  // flags
  put_be<int32_t>(out, 0);  // header extension length
  for (std::string line, field; std::getline(in, line); ++rows) {
    put_be<int16_t>(out, static_cast<int16_t>(types.size()));
    std::istringstream fields(line);
    for (const auto& type : types) {
      if (!std::getline(fields, field, ',')) return std::fprintf(stderr, "row %zu: too few fields\n", rows + 1), false;
      if (!put_field(out, type, field)) return false;
    }
  }
  put_be<int16_t>(out, -1);  // trailer
  return true;
}
}  // namespace

int main(int argc, char** argv) {
  const std::string format = argc == 5 ? argv[1] : "";
  if (format != "csv" && format != "binary") {
    std::fprintf(stderr, "usage: copy_ceiling csv|binary CONNINFO TABLE ROWS.csv\n");
    return 2;
  }
  const char* conninfo = argv[2];
  const char* table = argv[3];
  std::ifstream in(argv[4], std::ios::binary);
  if (!in) return std::fprintf(stderr, "cannot read %s\n", argv[4]), 1;
  std::string data;
  size_t rows = 0;
  if (format == "binary") {
    std::vector<std::string> types;
    if (!column_types(conninfo, table, types) || !encode_binary(in, types, data, rows)) return 1;
  } else {
    std::ostringstream all;
    all << in.rdbuf();
    data = all.str();
    for (char c : data) rows += c == '\n';
  }
  const std::string copy = std::string("COPY ") + table + " FROM STDIN (FORMAT " + format + ")";

  Conn conn(PQconnectdb(conninfo));
  if (PQstatus(conn.get()) != CONNECTION_OK) return std::fprintf(stderr, "%s", PQerrorMessage(conn.get())), 1;
  auto start = std::chrono::steady_clock::now();
  if (!exec(conn.get(), "BEGIN") || !exec(conn.get(), copy, PGRES_COPY_IN)) return 1;
  constexpr size_t kChunk = 1 << 20;  // what each PQputCopyData hands libpq
  for (size_t at = 0; at < data.size(); at += kChunk) {
    int len = static_cast<int>(std::min(kChunk, data.size() - at));
    if (PQputCopyData(conn.get(), data.data() + at, len) != 1) return std::fprintf(stderr, "%s", PQerrorMessage(conn.get())), 1;
  }
  if (PQputCopyEnd(conn.get(), nullptr) != 1) return std::fprintf(stderr, "%s", PQerrorMessage(conn.get())), 1;
  Result done(PQgetResult(conn.get()));
  if (PQresultStatus(done.get()) != PGRES_COMMAND_OK) return std::fprintf(stderr, "%s", PQerrorMessage(conn.get())), 1;
  while (Result more{PQgetResult(conn.get())}) {}
  if (!exec(conn.get(), "COMMIT")) return 1;
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%.0f\n", static_cast<double>(rows) / seconds);
  return 0;
}
