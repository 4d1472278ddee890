"""The PostgreSQL sink: every record ends up in the table or in the rejects
exactly once, whatever happens to the process, the database or the group."""
import os
import random
import signal
import subprocess
import time

from harness import TempDirTest, broker, process, run, wait_for
from pg import Postgres

TABLE = """CREATE TABLE routes (seq bigint NOT NULL, user_id integer NOT NULL, ts timestamptz NOT NULL,
  lat double precision NOT NULL CHECK (lat BETWEEN -90 AND 90), lon double precision NOT NULL)"""

PIPELINE = """
name = "pgtest"
[kafka]
bootstrap_servers = "${{KAFKA_BOOTSTRAP:-embedded}}"
compression = "zstd"
librdkafka = {{ "session.timeout.ms" = 6000, "heartbeat.interval.ms" = 500 }}
[[sources]]
type = "random_routes"
topic = "routes"
key = "user_id"
partitions = 8
count = {count}
invalid_ratio = {invalid}
[[sinks]]
name = "store"
type = "postgres"
topic = "routes"
conninfo = "${{PG_URI}}"
table = "routes"
batch_max_rows = {batch}
{extra}
"""


UPSERT = """
[[sources]]
type = "random_routes"
topic = "routes"
count = {count}
users = 50
invalid_ratio = {invalid}
[[sinks]]
type = "postgres"
topic = "routes"
conninfo = "${{PG_URI}}"
table = "latest"
mode = "upsert"
key_columns = ["user_id"]
columns = {{ user_id = "user_id", seq = "seq", lat = "lat" }}
"""


class PostgresTest(TempDirTest):
    def setUp(self):
        super().setUp()
        self.pg = Postgres()
        self.addCleanup(self.pg.close)
        self.pg.sql(TABLE)

    def pipeline(self, count, invalid=0.0, batch=5000, extra=""):
        return self.write("p.toml", PIPELINE.format(count=count, invalid=invalid, batch=batch, extra=extra))

    def env(self, address=None):
        env = {"PG_URI": self.pg.dsn}
        if address:
            env["KAFKA_BOOTSTRAP"] = address
        return env

    def stored(self):
        rows = int(self.pg.scalar("SELECT count(*) FROM routes"))
        # The sink creates its rejects table as it starts: until then there are none.
        if self.pg.scalar("SELECT to_regclass('sluice_rejects') IS NOT NULL") != "t":
            return rows
        return rows + int(self.pg.scalar("SELECT count(*) FROM sluice_rejects"))

    def assert_exactly_once(self, n):
        count, distinct, lo, hi = self.pg.sql("SELECT count(*), count(DISTINCT seq), min(seq), max(seq) FROM routes")[0]
        self.assertEqual((int(count), int(distinct), int(lo), int(hi)), (n, n, 0, n - 1))

    def produce(self, path, address):
        run("run", path, "--only", "sources", "--progress", "0s", env=self.env(address), check=0, timeout=300)


class ExactlyOnce(PostgresTest):
    def test_poison_records_end_in_rejects_with_reasons(self):
        n = 20000
        path = self.pipeline(n, invalid=0.1)
        run("run", path, "--progress", "0s", env=self.env(), check=0, timeout=300)
        rows = int(self.pg.scalar("SELECT count(*) FROM routes"))
        rejects = int(self.pg.scalar("SELECT count(*) FROM sluice_rejects"))
        self.assertEqual(rows + rejects, n)
        self.assertGreater(rejects, n * 0.07)
        self.assertEqual(self.pg.scalar("SELECT count(*) FROM sluice_rejects WHERE reason = ''"), "0")
        reasons = dict(self.pg.sql("SELECT split_part(reason, ':', 1), count(*) FROM sluice_rejects GROUP BY 1"))
        self.assertIn("not valid JSON", reasons)
        self.assertIn("missing field `user_id` (column user_id)", reasons)
        self.assertIn("column lat (double precision)", reasons)
        # the CHECK constraint's refusals carry PostgreSQL's own message
        self.assertIn('new row for relation "routes" violates check constraint "routes_lat_check" (Failing row contains (',
                      "\n".join(r[0] for r in self.pg.sql("SELECT reason FROM sluice_rejects")))
        # every record is in exactly one place, identified by topic/partition/offset
        self.assertEqual(self.pg.scalar(
            "SELECT count(*) FROM (SELECT partition, \"offset\" FROM sluice_rejects GROUP BY 1, 2 HAVING count(*) > 1) d"), "0")
        raw = self.pg.scalar("SELECT convert_from(raw_value, 'UTF8') FROM sluice_rejects WHERE reason LIKE 'not valid JSON%' LIMIT 1")
        self.assertIn("<not json>", raw)
        offsets = sum(int(r[0]) for r in self.pg.sql("SELECT next_offset FROM sluice_offsets"))
        self.assertEqual(offsets, n)

    def test_sigkill_at_random_moments_loses_and_duplicates_nothing(self):
        n = 300000
        path = self.pipeline(n, batch=100)  # many small transactions: kills land mid-stream
        rng = random.Random(int(os.environ.get("SLUICE_TEST_SEED", "0")) or None)
        # Five random moments, spread over the first half of the run: each kill
        # comes once the stored count passes a random point of its own stretch
        # of the work. The second half is headroom, so that even on a loaded
        # machine, where noticing a moment takes a while, the last kill still
        # lands before the end.
        moments = [int(n * (0.05 + 0.09 * i + rng.uniform(0, 0.05))) for i in range(5)]
        with broker("routes:8") as address:
            self.produce(path, address)
            for moment in moments:
                with process("run", path, "--only", "sinks", "--progress", "0s", env=self.env(address)) as p:
                    wait_for(lambda: self.stored() >= moment, timeout=120, what=f"{moment} records stored")
                    p.proc.send_signal(signal.SIGKILL)
                    p.proc.wait()
                    self.assertLess(self.stored(), n, "all stored before the last kill")
            run("run", path, "--only", "sinks", "--exit-after", str(n - self.stored()), "--progress", "0s",
                env=self.env(address), check=0, timeout=300)
        self.assert_exactly_once(n)

    def test_postgres_restarts_pause_and_resume_without_loss(self):
        n = 200000
        path = self.pipeline(n, batch=100)  # small transactions: the run outlasts 3 restarts
        with broker("routes:8") as address:
            self.produce(path, address)
            with process("run", path, "--only", "sinks", "--exit-after", str(n), "--progress", "0s",
                         env=self.env(address)) as p:
                for _ in range(3):
                    before = self.stored()
                    wait_for(lambda: self.stored() > before, timeout=120, what="rows to arrive")
                    self.assertLess(self.stored(), n, "all stored before the 3rd restart: make batches smaller")
                    self.pg.stop("fast")
                    self.pg.start()
                self.assertEqual(p.wait(timeout=300), 0, p.stderr_text())
                log = p.stderr_text()
        self.assert_exactly_once(n)
        self.assertIn("write failed, retrying with backoff", log)

    def test_two_instances_share_partitions_and_one_takes_over(self):
        n = 200000
        path = self.pipeline(n, batch=1000)
        with broker("routes:8") as address:
            self.produce(path, address)
            with process("run", path, "--only", "sinks", "--progress", "0s", env=self.env(address)) as a, \
                 process("run", path, "--only", "sinks", "--progress", "0s", env=self.env(address)) as b:
                wait_for(lambda: a.stderr_text().count("assigned partitions") and
                         b.stderr_text().count("assigned partitions") and
                         "assigned partitions none" not in a.stderr_text() + b.stderr_text(),
                         timeout=60, what="both instances to own partitions")
                before = self.stored()
                wait_for(lambda: self.stored() > before, timeout=60, what="rows to arrive")
                a.proc.send_signal(signal.SIGKILL)
                a.proc.wait()
                wait_for(lambda: self.stored() == n, timeout=300, what="the survivor to store everything")
        self.assert_exactly_once(n)

    def test_frozen_instance_is_fenced_when_it_wakes(self):
        n = 40000
        # Records trickle in, and instance A collects them for 2 s per batch, so
        # when frozen it holds a batch it has not written yet.
        path = self.write("p.toml", PIPELINE.format(count=n, invalid=0, batch=1000000,
                                                    extra='batch_max_wait = "2s"').replace(
            "invalid_ratio = 0", "invalid_ratio = 0\nrate = 2500"))
        with broker("routes:8") as address:
            env = self.env(address)
            with process("run", path, "--only", "sources", "--progress", "0s", env=env) as source, \
                 process("run", path, "--only", "sinks", "--progress", "0s", env=env) as a:
                wait_for(lambda: self.stored() > 0, timeout=60, what="instance A's first batch")
                # Not a wait for a state: it picks the moment to freeze, inside A's
                # 2 s collection window, when A holds records it has not written.
                time.sleep(0.7)
                a.proc.send_signal(signal.SIGSTOP)
                frozen_at = self.stored()
                with process("run", path, "--only", "sinks", "--progress", "0s", env=env) as b:
                    # the group gives A's partitions to B after A's session times out
                    wait_for(lambda: self.stored() > frozen_at + 5000, timeout=120, what="instance B to move on")
                    a.proc.send_signal(signal.SIGCONT)
                    try:
                        wait_for(lambda: "fenced" in a.stderr_text(), timeout=60, what="A's stale batch to fail its CAS")
                    except AssertionError as e:
                        raise AssertionError(f"{e}\nA said:\n{a.stderr_text()}\nB said:\n{b.stderr_text()}")
                    self.assertEqual(source.wait(timeout=120), 0)
                    wait_for(lambda: self.stored() == n, timeout=120, what="everything to be stored")
                    b_log = b.stderr_text()
                a_log = a.stderr_text()
        self.assert_exactly_once(n)
        self.assertRegex(a_log, r"store: fenced, batch of \d+ rolled back", a_log + b_log)


class Startup(PostgresTest):
    def test_missing_table_or_column_is_a_clear_error(self):
        path = self.pipeline(10, extra='columns = { seq = "seq", nope = "x" }')
        proc = run("run", path, env=self.env())
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn('columns: table "routes" has no column `nope`', proc.stderr)
        with open(self.pipeline(10)) as f:
            text = f.read().replace('table = "routes"', 'table = "routes\\"; drop table x; --"')
        proc = run("run", self.write("q.toml", text), env=self.env())
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn('table "routes""; drop table x; --" does not exist', proc.stderr)

    def test_upsert_isolates_refused_rows_from_the_first_batch_on(self):
        # A refused row rolls the batch back; the staging table must survive that.
        self.pg.sql("CREATE TABLE latest (user_id integer PRIMARY KEY, seq bigint NOT NULL, "
                    "lat double precision CHECK (lat BETWEEN -90 AND 90))")
        path = self.write("u.toml", UPSERT.format(count=2000, invalid=0.05))
        run("run", path, "--progress", "0s", env=self.env(), check=0)
        refused = int(self.pg.scalar("SELECT count(*) FROM sluice_rejects WHERE reason LIKE '%latest_lat_check%'"))
        self.assertGreater(refused, 0)
        self.assertEqual(sum(int(r[0]) for r in self.pg.sql("SELECT next_offset FROM sluice_offsets")), 2000)

    def test_upsert_keeps_the_latest_row_per_key(self):
        self.pg.sql("CREATE TABLE latest (user_id integer PRIMARY KEY, seq bigint NOT NULL, lat double precision)")
        path = self.write("u.toml", UPSERT.format(count=5000, invalid=0.0))
        run("run", path, "--progress", "0s", env=self.env(), check=0)
        self.assertEqual(self.pg.scalar("SELECT count(*) FROM latest"), "50")
        # the newest record of each user won: with one partition per key, that is the highest seq
        rows = self.pg.sql("SELECT user_id, seq FROM latest")
        self.assertEqual(self.pg.scalar("SELECT count(*) FROM sluice_rejects"), "0")
        self.assertGreater(min(int(s) for _, s in rows), 4000 - 1000)
