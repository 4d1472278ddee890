"""A PostgreSQL sink with its default settings stays small however far behind
it is: its peak RSS (VmHWM) reading a backlog of millions of records from a
separate broker is under a fixed bound, and it does not grow with the backlog
(the peak after the first 500k rows is the peak at the end). Not timed: every
wait is on rows stored or on the process ending."""
import os
import subprocess
import sys
import unittest

from harness import SOURCE_DIR, TempDirTest, broker, process, run, wait_for
from pg import Postgres

TABLE = ("CREATE TABLE routes (seq bigint PRIMARY KEY, user_id integer, ts double precision, "
         "lat double precision, lon double precision)")

SOURCE = """
name = "memory"
[kafka]
bootstrap_servers = "${{KAFKA_BOOTSTRAP}}"
[[sources]]
type = "random_routes"
topic = "routes"
key = "user_id"
partitions = 32
count = {count}
"""

# Nothing but what a user must write: every batch and prefetch setting is
# the default.
SINK = """
name = "memory"
[kafka]
bootstrap_servers = "${{KAFKA_BOOTSTRAP}}"
[[sinks]]
name = "store"
type = "postgres"
topic = "routes"
conninfo = "${{PG_URI}}"
table = "routes"
{extra}
"""

MB = 1024  # VmHWM and ru_maxrss are in kB
EARLY_ROWS = 500_000
# The peak may still creep while the allocator settles; growing with the
# backlog would add far more than this between 500k and 2M records.
GROWTH_TOLERANCE = 8 * MB
VALIDATE = os.path.join(SOURCE_DIR, "transforms", "validate_route.lua")


def vm_hwm(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError(f"no VmHWM in /proc/{pid}/status")


# ASan's shadow memory and quarantine are most of a sanitized process's RSS:
# the bound is the release build's.
@unittest.skipIf(os.environ.get("SLUICE_SANITIZED") == "1", "memory bounds are for the normal build")
class SinkMemoryTest(TempDirTest):
    def setUp(self):
        super().setUp()
        self.pg = Postgres()
        self.addCleanup(self.pg.close)
        self.pg.sql(TABLE)

    def stored(self):
        return int(self.pg.scalar("SELECT count(*) FROM routes"))

    def peaks(self, records, extra=""):
        """Fills a broker with `records`, then runs a sink over them to the
        end: returns its VmHWM after EARLY_ROWS rows and at its exit (kB)."""
        with broker("routes:32") as address:
            env = {"KAFKA_BOOTSTRAP": address, "PG_URI": self.pg.dsn}
            run("run", self.write("source.toml", SOURCE.format(count=records)), "--only", "sources",
                "--progress", "0s", env=env, check=0, timeout=600)
            sink = self.write("sink.toml", SINK.format(extra=extra))
            with process("run", sink, "--only", "sinks", "--exit-after", str(records), "--progress", "0s",
                         env=env, stdout=subprocess.DEVNULL) as p:
                pid = p.proc.pid
                wait_for(lambda: self.stored() >= EARLY_ROWS or p.proc.poll() is not None, timeout=600,
                         what=f"{EARLY_ROWS} rows stored")
                self.assertIsNone(p.proc.poll(), "the sink ended early:\n" + p.stderr_text())
                early = vm_hwm(pid)
                # Reaped here, for its rusage: ru_maxrss is the VmHWM at exit.
                reaped = wait_for(lambda: (lambda r: r if r[0] else None)(os.wait4(pid, os.WNOHANG)),
                                  timeout=900, what="the sink to end")
                _, status, usage = reaped
                p.proc.returncode = os.waitstatus_to_exitcode(status)
                self.assertEqual(p.proc.returncode, 0, p.stderr_text())
                final = usage.ru_maxrss
        count, distinct = self.pg.sql("SELECT count(*), count(DISTINCT seq) FROM routes")[0]
        self.assertEqual((int(count), int(distinct)), (records, records))
        return early, final

    def assert_small_and_flat(self, early, final, bound_mb):
        # The figures, for the log of a run that passes too.
        print(f"\n{self.id()}: VmHWM {early / MB:.1f} MB after {EARLY_ROWS} rows, {final / MB:.1f} MB at the end",
              file=sys.stderr)
        self.assertLessEqual(final, bound_mb * MB, f"peak RSS {final / MB:.1f} MB over {bound_mb} MB")
        self.assertLessEqual(final - early, GROWTH_TOLERANCE,
                             f"peak RSS grew with the backlog: {early / MB:.1f} MB after {EARLY_ROWS} rows, "
                             f"{final / MB:.1f} MB at the end")

    def test_defaults_stay_under_64mb_over_2m_records(self):
        early, final = self.peaks(2_000_000)
        self.assert_small_and_flat(early, final, 64)

    def test_with_a_lua_transform_under_96mb_over_1m_records(self):
        # 1M rather than 2M records: the script costs time, and the flatness
        # is shown by the peak after 500k rows matching the end's.
        early, final = self.peaks(1_000_000, f'transforms = ["{VALIDATE}"]')
        self.assert_small_and_flat(early, final, 96)


if __name__ == "__main__":
    unittest.main()
