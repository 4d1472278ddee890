"""Runtime faults, tried as a hostile user would: offsets that belong to
another log or that expired, error paths that used to hang, and signals
during an outage or a stuck stop. Every fault is driven by progress (rows
stored, log lines, locks held), never by guesses about speed; every run has
a bound on how long it may take to exit, so a hang fails the test."""
import contextlib
import os
import signal
import subprocess
import threading

from harness import TempDirTest, broker, process, run, wait_for
from pg import Postgres

TABLE = """CREATE TABLE {name} (seq bigint NOT NULL, user_id integer NOT NULL, ts timestamptz NOT NULL,
  lat double precision NOT NULL, lon double precision NOT NULL)"""

KAFKA = """
[kafka]
bootstrap_servers = "${{KAFKA_BOOTSTRAP:-embedded}}"
compression = "none"
librdkafka = {{ "session.timeout.ms" = 6000, "heartbeat.interval.ms" = 500{librdkafka} }}
"""

SOURCE = """
[[sources]]
name = "{name}"
type = "random_routes"
topic = "{topic}"
key = "user_id"
partitions = {partitions}
count = {count}
"""

PG_SINK = """
[[sinks]]
name = "{name}"
type = "postgres"
topic = "{topic}"
conninfo = "{conninfo}"
table = "{table}"
batch_max_rows = {batch}
{extra}
"""

STDOUT_SINK = """
[[sinks]]
name = "out"
type = "stdout"
topic = "routes"
"""

# The embedded broker keeps about 5 MB per partition; a routes record is
# about 85 bytes without compression.
RECORDS_PAST_RETENTION = 100000

# Generous bounds on how long a run may take to exit: a hang fails the test,
# a slow machine does not.
EXIT_BOUND = 120


class HeldLock:
    """An advisory lock held by a psql session of the test's own, so a sink's
    COPY can be made to wait inside the database (a trigger asks for it)."""

    def __init__(self, pg, key=42):
        self.pg = pg
        self.psql = subprocess.Popen(["psql", "-X", "-q", "-d", pg.dsn], stdin=subprocess.PIPE,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
        self.psql.stdin.write(f"SELECT pg_advisory_lock({key});\n")
        self.psql.stdin.flush()
        wait_for(lambda: pg.scalar(f"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = {key} "
                                   "AND objsubid = 1 AND granted") == "1", timeout=30, what="the test's advisory lock")

    def release(self):
        if self.psql.poll() is None:
            try:
                self.psql.stdin.close()
            except BrokenPipeError:
                pass
            try:
                self.psql.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.psql.kill()
                self.psql.wait()


@contextlib.contextmanager
def held_lock(pg):
    lock = HeldLock(pg)
    try:
        yield lock
    finally:
        lock.release()


class RuntimeTest(TempDirTest):
    def setUp(self):
        super().setUp()
        self.pg = Postgres()
        self.addCleanup(self.pg.close)
        self.pg.sql(TABLE.format(name="routes"))

    def pipeline(self, count, partitions=4, batch=1000, file="p.toml", sinks=None, librdkafka=""):
        text = 'name = "hostile"\n' + KAFKA.format(librdkafka=librdkafka)
        text += SOURCE.format(name="gen", topic="routes", partitions=partitions, count=count)
        text += sinks if sinks is not None else PG_SINK.format(
            name="store", topic="routes", conninfo="${PG_URI}", table="routes", batch=batch, extra="")
        return self.write(file, text)

    def env(self, address=None):
        env = {"PG_URI": self.pg.dsn}
        if address:
            env["KAFKA_BOOTSTRAP"] = address
        return env

    def rows(self, table="routes"):
        return int(self.pg.scalar(f"SELECT count(*) FROM {table}"))

    def produce(self, path, address):
        run("run", path, "--only", "sources", "--progress", "0s", env=self.env(address), check=0, timeout=300)

    def run_bounded(self, *args, env):
        """Runs sluice to its end; a run that does not end in time has hung."""
        try:
            return run(*args, env=env, timeout=EXIT_BOUND)
        except subprocess.TimeoutExpired as e:
            self.fail(f"sluice {' '.join(args)} hung: still running after {EXIT_BOUND}s\n{e.stderr!r}")

    def wait_exit(self, p, what):
        try:
            return p.wait(timeout=EXIT_BOUND)
        except subprocess.TimeoutExpired:
            self.fail(f"{what}: still running after {EXIT_BOUND}s\n{p.stderr_text()}")

    def assert_exactly_once(self, n):
        count, distinct, lo, hi = self.pg.sql("SELECT count(*), count(DISTINCT seq), min(seq), max(seq) FROM routes")[0]
        self.assertEqual((int(count), int(distinct), int(lo), int(hi)), (n, n, 0, n - 1))

    def hold_copy_at(self, seq, table="routes"):
        """A trigger makes the COPY that carries record `seq` wait for the
        test's advisory lock."""
        self.pg.sql(f"""CREATE FUNCTION hold_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN IF NEW.seq = {seq} THEN PERFORM pg_advisory_xact_lock_shared(42); END IF; RETURN NEW; END $$;
            CREATE TRIGGER hold BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION hold_{table}()""")

    def sink_waits_on_lock(self):
        return self.pg.scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'sluice' "
                              "AND wait_event_type = 'Lock'") != "0"


class ForeignOffsets(RuntimeTest):
    def test_a_second_run_with_a_fresh_embedded_broker_stores_all_of_its_records(self):
        # Each run's embedded broker is new: the offsets the first run stored
        # are positions in a log that is gone, and must not be read as
        # positions in the second run's log.
        n = 5000
        path = self.pipeline(n)
        for runs in (1, 2):
            proc = self.run_bounded("run", path, "--progress", "0s", env=self.env())
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertEqual(self.rows(), n * runs, f"run {runs}:\n{proc.stderr}")
        # each run keeps its own offsets, one row per partition, summing to its records
        per_run = self.pg.sql("SELECT consumer_group, sum(next_offset), count(*) FROM sluice_offsets GROUP BY 1")
        self.assertEqual(len(per_run), 2, per_run)
        for group, total, partitions in per_run:
            self.assertRegex(group, r"^sluice\.hostile\.store@embedded-[0-9a-f]{16}$")
            self.assertEqual((int(total), int(partitions)), (n, 4))
        self.assertEqual(self.pg.scalar("SELECT count(DISTINCT seq) FROM routes"), str(n))

    def test_offsets_above_the_high_watermark_stop_the_sink_with_a_clear_error(self):
        # The sink's offsets were stored while reading one broker's log; the
        # broker is replaced by a fresh one holding fewer records.
        path, later = self.pipeline(2000, partitions=2), self.pipeline(500, partitions=2, file="later.toml")
        with broker("routes:2") as first:
            self.produce(path, first)
            run("run", path, "--only", "sinks", "--exit-after", "2000", "--progress", "0s", env=self.env(first),
                check=0, timeout=EXIT_BOUND)
        self.assertEqual(self.rows(), 2000)
        stored = dict(self.pg.sql("SELECT partition, next_offset FROM sluice_offsets"))
        with broker("routes:2") as second:
            self.produce(later, second)
            proc = self.run_bounded("run", later, "--only", "sinks", "--progress", "0s", env=self.env(second))
        self.assertEqual(proc.returncode, 1, proc.stderr)
        for partition, offset in stored.items():
            self.assertRegex(proc.stderr, rf"routes/{partition} at offset {offset}: the offset to read is above the "
                                          rf"partition's high watermark \d+, so it was stored for another log")
        self.assertIn("consumer group `sluice.hostile.store`", proc.stderr)
        self.assertNotIn("fell behind", proc.stderr)
        self.assertEqual(self.rows(), 2000, "nothing of the new log may be written")


class ExpiredOffsets(RuntimeTest):
    def test_expired_offsets_on_several_partitions_exit_1_and_do_not_hang(self):
        # Four partitions: their errors arrive together, which is what hung.
        small, big = self.pipeline(1000, partitions=4), self.pipeline(4 * RECORDS_PAST_RETENTION, partitions=4,
                                                                      file="big.toml")
        with broker("routes:4") as address:
            self.produce(small, address)
            run("run", small, "--only", "sinks", "--exit-after", "1000", "--progress", "0s", env=self.env(address),
                check=0, timeout=EXIT_BOUND)
            stored = dict(self.pg.sql("SELECT partition, next_offset FROM sluice_offsets"))
            self.assertEqual(sorted(stored), ["0", "1", "2", "3"])
            self.produce(big, address)  # more than the broker keeps per partition: the starts are trimmed
            proc = self.run_bounded("run", big, "--only", "sinks", "--progress", "0s", env=self.env(address))
        self.assertEqual(proc.returncode, 1, proc.stderr)
        for partition, offset in stored.items():
            self.assertRegex(proc.stderr, rf"routes/{partition} at offset {offset}: the offset to read is no longer "
                                          r"kept by the broker \(the log starts at \d+")
        self.assertEqual(self.rows(), 1000)


class StdoutBehindRetention(RuntimeTest):
    # A small consumer queue, so that a sink that does not keep up falls
    # behind the broker's retention rather than holding the backlog.
    QUEUE = ', "queued.max.messages.kbytes" = 2048, "fetch.max.bytes" = 1048576, "max.partition.fetch.bytes" = 1048576'

    def test_falling_behind_retention_exits_with_its_error(self):
        # The sink is positioned on every partition before anything is
        # produced; then nobody reads its standard output while more than the
        # broker keeps is produced, so every partition's next fetch is below
        # the log start: four fetch errors at once, which is what hung.
        n = 4 * RECORDS_PAST_RETENTION
        path = self.pipeline(n, partitions=4, sinks=STDOUT_SINK, librdkafka=self.QUEUE)
        with broker("routes:4") as address:
            with process("run", path, "--only", "sinks", "--progress", "0s", env=self.env(address)) as p:
                wait_for(lambda: "assigned partitions 0@start 1@start 2@start 3@start" in p.stderr_text(),
                         timeout=EXIT_BOUND, what="the sink's assignment")
                self.produce(path, address)
                reader = threading.Thread(target=lambda: p.proc.stdout.read(), daemon=True)
                reader.start()
                rc = self.wait_exit(p, "the stdout sink after falling behind retention")
                log = p.stderr_text()
        self.assertEqual(rc, 1, log)
        self.assertRegex(log, r"routes/[0-3] at offset \d+: the offset to read is no longer kept by the broker")

    def test_sigterm_stops_a_sink_whose_stdout_is_not_read(self):
        n = 50000  # some MB of JSON lines: far more than a pipe holds
        path = self.pipeline(n, partitions=2, sinks=STDOUT_SINK, librdkafka=self.QUEUE)
        with process("run", path, "--progress", "1s") as p:
            p.proc.stdout.readline()  # the sink is writing; from now on nobody reads
            wait_for(lambda: f"acked {n}" in p.stderr_text(), timeout=EXIT_BOUND, what="all records produced")
            p.signal(signal.SIGTERM)
            rc = self.wait_exit(p, "SIGTERM with standard output not read")
            log = p.stderr_text()
        self.assertEqual(rc, 0, log)
        self.assertIn("was left for the next run", log)


class Signals(RuntimeTest):
    def test_sigterm_during_a_database_outage_exits_0_and_loses_nothing(self):
        n = 20000
        path = self.pipeline(n, batch=500)
        self.hold_copy_at(n // 2)
        with broker("routes:4") as address:
            self.produce(path, address)
            with held_lock(self.pg):
                with process("run", path, "--only", "sinks", "--progress", "0s", env=self.env(address)) as p:
                    # The sink stores batches until the one carrying record n/2,
                    # which waits inside COPY; then the database goes away.
                    wait_for(self.sink_waits_on_lock, timeout=EXIT_BOUND, what="the sink's COPY to wait")
                    stored_before = self.rows()
                    self.pg.stop("fast")
                    wait_for(lambda: "write failed, retrying with backoff" in p.stderr_text(), timeout=EXIT_BOUND,
                             what="the sink to retry")
                    p.signal(signal.SIGTERM)
                    rc = self.wait_exit(p, "SIGTERM during an outage")
                    log = p.stderr_text()
            self.assertEqual(rc, 0, log)
            self.assertIn("store: stopped while retrying: ", log)
            self.assertRegex(log, r"store: stopped with a write unfinished: the batch in hand \(\d+ records, "
                                  r"and \d+ consumed after it\) was left for the next run")
            self.pg.start()
            self.pg.sql("DROP TRIGGER hold ON routes")
            self.assertEqual(self.rows(), stored_before)
            self.assertLess(stored_before, n)
            run("run", path, "--only", "sinks", "--exit-after", str(n - stored_before), "--progress", "0s",
                env=self.env(address), check=0, timeout=EXIT_BOUND)
        self.assert_exactly_once(n)

    def test_a_second_sigterm_ends_a_stop_that_is_stuck(self):
        n = 20000
        path = self.pipeline(n, batch=500)
        self.hold_copy_at(n // 2)
        with broker("routes:4") as address:
            self.produce(path, address)
            with held_lock(self.pg):
                with process("run", path, "--only", "sinks", "--progress", "0s", env=self.env(address)) as p:
                    wait_for(self.sink_waits_on_lock, timeout=EXIT_BOUND, what="the sink's COPY to wait")
                    p.signal(signal.SIGTERM)
                    wait_for(lambda: "SIGTERM received: stopping cleanly" in p.stderr_text(), timeout=EXIT_BOUND,
                             what="the first signal to be taken")
                    # The clean stop waits for the batch in the database, which
                    # waits for the test's lock: stuck until the second signal.
                    self.assertIsNone(p.proc.poll())
                    p.signal(signal.SIGTERM)
                    rc = self.wait_exit(p, "the second SIGTERM")
                    log = p.stderr_text()
            self.assertEqual(rc, 130, log)
            self.assertIn("second signal: exiting without a clean stop", log)
            self.pg.sql("DROP TRIGGER hold ON routes")
            stored = self.rows()
            run("run", path, "--only", "sinks", "--exit-after", str(n - stored), "--progress", "0s",
                env=self.env(address), check=0, timeout=EXIT_BOUND)
        self.assert_exactly_once(n)

    def test_sigterm_ends_a_run_stuck_stopping_after_an_error(self):
        # Two sinks in one process: `store` waits inside COPY; `other` fails
        # for good (its role lost the right to insert). The failure asks the
        # run to stop, but `store` cannot finish its batch: one SIGTERM must
        # end the process, with the failure's exit code.
        n, m = 20000, 1000
        self.pg.sql(TABLE.format(name="other"))
        self.pg.sql("CREATE ROLE writer LOGIN; GRANT CREATE ON SCHEMA public TO writer; "
                    "GRANT SELECT, INSERT ON other TO writer")
        writer_uri = self.pg.dsn.replace("user=postgres", "user=writer")
        sinks = PG_SINK.format(name="store", topic="routes", conninfo="${PG_URI}", table="routes", batch=500,
                               extra="") + PG_SINK.format(
            name="other", topic="other", conninfo=writer_uri, table="other", batch=100,
            extra='offsets_table = "other_offsets"\nrejects_table = "other_rejects"')
        path = self.pipeline(n, sinks=sinks + SOURCE.format(name="gen2", topic="other", partitions=1, count=m))
        more = self.write("more.toml", 'name = "more"\n' + KAFKA.format(librdkafka="") +
                          SOURCE.format(name="gen2", topic="other", partitions=1, count=m))
        self.hold_copy_at(n // 2)
        with broker("routes:4", "other:1") as address:
            self.produce(path, address)
            with held_lock(self.pg):
                with process("run", path, "--only", "sinks", "--progress", "0s", env=self.env(address)) as p:
                    wait_for(self.sink_waits_on_lock, timeout=EXIT_BOUND, what="store's COPY to wait")
                    wait_for(lambda: self.rows("other") == m, timeout=EXIT_BOUND, what="other's records")
                    self.pg.sql("REVOKE INSERT ON other FROM writer")
                    self.produce(more, address)
                    wait_for(lambda: "permission denied" in p.stderr_text(), timeout=EXIT_BOUND,
                             what="other's write to fail")
                    self.assertIsNone(p.proc.poll(), "store's batch cannot have finished")
                    p.signal(signal.SIGTERM)
                    rc = self.wait_exit(p, "one SIGTERM after an error")
                    log = p.stderr_text()
        self.assertEqual(rc, 1, log)
        self.assertIn("SIGTERM received while stopping after an error: exiting now", log)
