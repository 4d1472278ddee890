"""A throwaway PostgreSQL server for tests: initdb into a temp dir, its own
port on 127.0.0.1, run as user `postgres` (it refuses root), stopped after."""
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile

BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_postgres(args, **kw):
    if os.geteuid() == 0:
        args = ["runuser", "-u", "postgres", "--", *args]
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw)


class Postgres:
    # pg_ctl's own default wait (60 s) is a guess about speed; these are only
    # guards against a hang and cost nothing when the server is quick.
    WAIT = "300"

    def __init__(self, extra_conf="", before_start=None):
        self.dir = tempfile.mkdtemp(prefix="sluice-pg-")
        try:
            if os.geteuid() == 0:
                pw = pwd.getpwnam("postgres")
                os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            self.data = os.path.join(self.dir, "data")
            as_postgres([f"{BIN}/initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                         "--locale=C.UTF-8"])
            with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
                f.write(f"listen_addresses = '127.0.0.1'\nunix_socket_directories = '{self.dir}'\n"
                        "fsync = off\nfull_page_writes = off\nmax_connections = 50\n" + extra_conf)
            if before_start:
                before_start(self.data)
            self.port = self._start_on_a_free_port()
        except BaseException:
            self.close()  # a server left running would outlive the test
            raise
        self.dsn = f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"

    def _start_on_a_free_port(self):
        # free_port() releases the port before the server binds it, so another
        # test starting at the same moment may take it first: then pick again.
        for attempt in range(5):
            port = free_port()
            with open(os.path.join(self.data, "postgresql.auto.conf"), "w") as f:
                f.write(f"port = {port}\n")
            try:
                self.start()
                return port
            except subprocess.CalledProcessError:
                with open(os.path.join(self.dir, "log")) as f:
                    taken = "Address already in use" in f.read()
                if not taken or attempt == 4:
                    raise

    def start(self):
        as_postgres([f"{BIN}/pg_ctl", "-D", self.data, "-l", os.path.join(self.dir, "log"), "-t", self.WAIT,
                     "-w", "start"])

    def stop(self, mode="fast"):
        as_postgres([f"{BIN}/pg_ctl", "-D", self.data, "-m", mode, "-t", self.WAIT, "-w", "stop"])

    def sql(self, query):
        """Runs SQL with psql; returns the output rows as lists of strings."""
        out = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-d",
                              self.dsn + " sslmode=prefer",
                              "-c", query], check=True, capture_output=True, text=True).stdout
        return [line.split("\t") for line in out.splitlines() if line]

    def scalar(self, query):
        return self.sql(query)[0][0]

    def close(self):
        try:
            if os.path.exists(os.path.join(self.data, "postmaster.pid")):
                self.stop("immediate")
        except (AttributeError, subprocess.CalledProcessError):
            pass
        shutil.rmtree(self.dir, ignore_errors=True)
