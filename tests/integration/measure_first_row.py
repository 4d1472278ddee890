"""Measures time to first row: from starting `sluice run` (embedded broker, a
random_routes source, a PostgreSQL sink with its default settings) to the
first row committed in PostgreSQL. Not a test (timings are the machine's):
a script for the bench and the README's figure.

    cd tests/integration
    SLUICE_BIN=.../build/core/sluice /usr/bin/python3 measure_first_row.py [runs] [other sluice binary...]

Prints, per binary, each run's seconds and the min-max. Binaries given on the
command line are measured in turn, run by run, so they share the machine's
load. The first row is seen through one psql session that asks
`SELECT count(*)` in a loop (a few ms per round trip), so the figure is at
most that much late. Each run's log (debug level) is written to a temporary
directory, removed at the end."""
import datetime
import os
import subprocess
import sys
import tempfile
import time

from harness import SLUICE
from pg import Postgres

TABLE = """CREATE TABLE routes (seq bigint PRIMARY KEY, user_id integer, ts double precision,
  lat double precision, lon double precision)"""

PIPELINE = """name = "first_row"
[[sources]]
name = "gen"
type = "random_routes"
topic = "routes"
key = "user_id"
partitions = 32

[[sinks]]
name = "store"
type = "postgres"
topic = "routes"
conninfo = "${PG_URI}"
table = "routes"
"""


class Counter:
    """One psql session that answers `SELECT count(*)` on demand."""

    def __init__(self, dsn):
        self.psql = subprocess.Popen(["psql", "-X", "-q", "-A", "-t", "-d", dsn], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)

    def rows(self):
        self.psql.stdin.write("SELECT count(*) FROM routes;\n")
        self.psql.stdin.flush()
        return int(self.psql.stdout.readline())

    def close(self):
        self.psql.stdin.close()
        self.psql.wait(timeout=30)


# Log lines that mark the steps of a start, shown in ms since the process began.
STEPS = {"starting": "pipeline `", "sink ready": "writing into", "assigned": "assigned partitions"}


def steps(log_path, started_wall):
    """When each step's first log line came, in ms after the start."""
    out = {}
    with open(log_path) as f:
        for line in f:
            for step, text in STEPS.items():
                if step not in out and text in line:
                    stamp = datetime.datetime.fromisoformat(line.split(" ", 1)[0]).timestamp()
                    out[step] = round((stamp - started_wall) * 1000)
    return out


def first_row_seconds(binary, path, pg, counter, log_path, bound=60.0):
    pg.sql("TRUNCATE routes; DROP TABLE IF EXISTS sluice_offsets, sluice_rejects")
    env = dict(os.environ, PG_URI=pg.dsn)
    with open(log_path, "w") as log:
        started, started_wall = time.monotonic(), time.time()
        proc = subprocess.Popen([binary, "--log-level", "debug", "run", path, "--progress", "0s"],
                                stdout=subprocess.DEVNULL, stderr=log, env=env)
        try:
            while counter.rows() == 0:
                if proc.poll() is not None or time.monotonic() - started > bound:
                    raise RuntimeError(f"{binary}: no row within {bound}s (see {log_path})")
                time.sleep(0.005)
            seconds = time.monotonic() - started
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    print(f"  {binary}: first row at {seconds * 1000:.0f} ms; log steps (ms): {steps(log_path, started_wall)}",
          flush=True)
    return seconds


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    binaries = [SLUICE] + sys.argv[2:]
    pg = Postgres()
    try:
        pg.sql(TABLE)
        counter = Counter(pg.dsn)
        with tempfile.TemporaryDirectory(prefix="sluice-first-row-") as d:
            path = os.path.join(d, "p.toml")
            with open(path, "w") as f:
                f.write(PIPELINE)
            times = {b: [] for b in binaries}
            for _ in range(runs):
                for i, b in enumerate(binaries):
                    times[b].append(first_row_seconds(b, path, pg, counter, os.path.join(d, f"first_row_{i}.log")))
            for b, t in times.items():
                print(f"{b}: time to first row {min(t):.3f}-{max(t):.3f} s over {len(t)} runs "
                      f"({' '.join(f'{x:.3f}' for x in t)})")
        counter.close()
    finally:
        pg.close()


if __name__ == "__main__":
    main()
