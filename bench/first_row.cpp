// Time to first row: starts a command (a `sluice run` of a pipeline) and polls
// TABLE every 5 ms on a connection opened beforehand, until a row is visible
// (committed). Prints the seconds from just before the command was started to
// the poll that saw the row, then stops the command with SIGTERM and waits.
// Usage: first_row CONNINFO TABLE CMD [ARGS...]   -> prints seconds
#include <libpq-fe.h>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

extern char** environ;

namespace {
struct PgDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
  void operator()(PGresult* r) const { PQclear(r); }
};
using Conn = std::unique_ptr<PGconn, PgDeleter>;
using Result = std::unique_ptr<PGresult, PgDeleter>;

// The started command, stopped and reaped however main returns.
class Child {
 public:
  explicit Child(char** argv) {
    error_ = posix_spawnp(&pid_, argv[0], nullptr, nullptr, argv, environ);
    if (error_ != 0) pid_ = -1;
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid_ <= 0) return;
    if (!exited_) kill(pid_, SIGTERM);
    if (!exited_) waitpid(pid_, nullptr, 0);
  }
  bool started() const { return pid_ > 0; }
  int error() const { return error_; }
  bool exited() {  // without waiting
    if (!exited_ && waitpid(pid_, nullptr, WNOHANG) == pid_) exited_ = true;
    return exited_;
  }

 private:
  pid_t pid_ = -1;
  int error_ = 0;
  bool exited_ = false;
};
}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: first_row CONNINFO TABLE CMD [ARGS...]\n");
    return 2;
  }
  Conn conn(PQconnectdb(argv[1]));
  if (PQstatus(conn.get()) != CONNECTION_OK) return std::fprintf(stderr, "%s", PQerrorMessage(conn.get())), 1;
  const std::string probe = std::string("SELECT EXISTS (SELECT 1 FROM ") + argv[2] + ")";

  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  Child child(argv + 3);
  if (!child.started()) return std::fprintf(stderr, "cannot start %s: %s\n", argv[3], std::strerror(child.error())), 1;
  while (Clock::now() - start < std::chrono::seconds(60)) {
    Result r(PQexec(conn.get(), probe.c_str()));
    if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) return std::fprintf(stderr, "%s", PQerrorMessage(conn.get())), 1;
    if (PQgetvalue(r.get(), 0, 0)[0] == 't') {
      std::printf("%.3f\n", std::chrono::duration<double>(Clock::now() - start).count());
      return 0;
    }
    if (child.exited()) return std::fprintf(stderr, "first_row: %s exited before a row was visible\n", argv[3]), 1;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::fprintf(stderr, "first_row: no row in %s after 60 s\n", argv[2]);
  return 1;
}
