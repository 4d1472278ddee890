"""The PostgreSQL sink: every record ends up in the table or in the rejects
exactly once, whatever happens to the process, the database or the group."""
import os
import random
import re
import signal

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

    def seq_source(self, first, count, extra=""):
        """A source-only pipeline for the records seq first..first+count-1 (a
        Lua script shifts random_routes' 0..count-1). Fault tests produce their
        data in stages with it, so that at each fault records the sink has not
        stored yet are known to remain, on a fast machine as on a slow one."""
        shift = self.write(f"shift{first}.lua", f"function transform(r) r.seq = r.seq + {first} return r end")
        return self.write(f"source{first}.toml", f"""
[kafka]
bootstrap_servers = "${{KAFKA_BOOTSTRAP}}"
compression = "zstd"
[[sources]]
type = "random_routes"
topic = "routes"
key = "user_id"
partitions = 8
count = {count}
seed = {first + 1}
transforms = ["{shift}"]
{extra}
""")

    def produce_seqs(self, address, first, count):
        run("run", self.seq_source(first, count), "--only", "sources", "--progress", "0s", env=self.env(address),
            check=0, timeout=300)


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
        # of the work. Only the first 5/6 of the records are produced before
        # the kills, so however fast the sink runs, the last kill always finds
        # records still to store; the rest is produced after it.
        moments = [int(n * (0.05 + 0.09 * i + rng.uniform(0, 0.05))) for i in range(5)]
        before_kills = n * 5 // 6
        with broker("routes:8") as address:
            self.produce_seqs(address, 0, before_kills)
            for moment in moments:
                with process("run", path, "--only", "sinks", "--progress", "0s", env=self.env(address)) as p:
                    wait_for(lambda: self.stored() >= moment, timeout=300, what=f"{moment} records stored")
                    p.proc.send_signal(signal.SIGKILL)
                    p.proc.wait()
            self.produce_seqs(address, before_kills, n - before_kills)
            run("run", path, "--only", "sinks", "--exit-after", str(n - self.stored()), "--progress", "0s",
                env=self.env(address), check=0, timeout=300)
        self.assert_exactly_once(n)

    def test_postgres_restarts_pause_and_resume_without_loss(self):
        n, stage = 200000, 50000
        path = self.pipeline(n, batch=100)  # small transactions: a restart interrupts a stream of them
        with broker("routes:8") as address:
            with process("run", path, "--only", "sinks", "--exit-after", str(n), "--progress", "0s",
                         env=self.env(address)) as p:
                # The records come in four stages, one per restart and one
                # after the last: the sink cannot have stored everything before
                # a restart, whatever its speed. Each stage is produced at a
                # limited rate while the sink runs, so that the sink is most
                # likely writing when the server stops; were it idle, its next
                # write would meet the closed connection all the same.
                for i in range(3):
                    with process("run", self.seq_source(i * stage, stage, "rate = 25000"), "--only", "sources",
                                 "--progress", "0s", env=self.env(address)) as source:
                        wait_for(lambda: self.stored() >= i * stage + stage // 5, timeout=300,
                                 what=f"rows of stage {i} to arrive")
                        self.pg.stop("fast")
                        self.pg.start()
                        self.assertEqual(source.wait(timeout=300), 0, source.stderr_text())
                self.produce_seqs(address, 3 * stage, n - 3 * stage)
                self.assertEqual(p.wait(timeout=300), 0, p.stderr_text())
                log = p.stderr_text()
        self.assert_exactly_once(n)
        # every restart was noticed: a progress wait separates them, so each fails a write of its own
        self.assertGreaterEqual(log.count("write failed, retrying with backoff"), 3, log)

    def test_two_instances_share_partitions_and_one_takes_over(self):
        n = 200000
        path = self.pipeline(n, batch=1000)
        with broker("routes:8") as address:
            # Half the records before the kill, half after: the second half
            # lands in every partition, so storing it all needs the survivor
            # to have taken over the killed instance's partitions.
            self.produce_seqs(address, 0, n // 2)
            with process("run", path, "--only", "sinks", "--progress", "0s", env=self.env(address)) as a, \
                 process("run", path, "--only", "sinks", "--progress", "0s", env=self.env(address)) as b:
                wait_for(lambda: self.share_the_partitions(a, b), timeout=120, what="both instances to own partitions")
                wait_for(lambda: self.stored() > 0, timeout=120, what="rows to arrive")
                a.proc.send_signal(signal.SIGKILL)
                a.proc.wait()
                self.produce_seqs(address, n // 2, n - n // 2)
                wait_for(lambda: self.stored() == n, timeout=300, what="the survivor to store everything")
        self.assert_exactly_once(n)

    @staticmethod
    def share_the_partitions(*instances):
        """True when each instance's latest assignment is its own share of the 8 partitions."""
        shares = []
        for instance in instances:
            assigned = re.findall(r"assigned partitions (.*)", instance.stderr_text())
            if not assigned or assigned[-1].strip() == "none":
                return False
            shares.append(set(re.findall(r"(\d+)@", assigned[-1])))  # "0@start 3@1200"
        union = set().union(*shares)
        return union == {str(p) for p in range(8)} and sum(map(len, shares)) == 8

    def test_frozen_instance_is_fenced_when_it_wakes(self):
        n, batch = 40000, 1000
        held = batch // 2
        # Instance A writes only full batches of 1000 (its batch_max_wait is
        # the longest there is), and the first stage holds 10.5 batches: once
        # A has stored 10 of them, it holds the last 500 records unwritten and
        # will not write again for a minute. That is when it is frozen: never
        # inside a transaction, whatever the machine's speed.
        a_path = self.pipeline(n, batch=batch, extra='batch_max_wait = "60s"')
        b_path = self.write("b.toml", PIPELINE.format(count=n, invalid=0, batch=batch, extra=""))
        first = 10 * batch + held
        with broker("routes:8") as address:
            env = self.env(address)
            self.produce_seqs(address, 0, first)
            with process("run", a_path, "--only", "sinks", "--progress", "0s", env=env) as a:
                wait_for(lambda: self.stored() == first - held, timeout=120, what="instance A's full batches")
                a.proc.send_signal(signal.SIGSTOP)
                frozen_at = self.stored()
                self.assertEqual(frozen_at, first - held, "A wrote a partial batch")
                # A frozen inside a transaction could hold locks that would
                # stall B; the batch settings above rule that out, this checks it.
                self.assertEqual(self.pg.sql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'sluice' "
                                             "AND (state <> 'idle' OR xact_start IS NOT NULL)"), [["0"]])
                with process("run", b_path, "--only", "sinks", "--progress", "0s", env=env) as b:
                    self.produce_seqs(address, first, n - first)
                    # The group gives A's partitions to B after A's session
                    # times out; B then stores everything, A's 500 included.
                    try:
                        wait_for(lambda: self.stored() == n, timeout=300, what="instance B to store everything")
                        a.proc.send_signal(signal.SIGCONT)
                        wait_for(lambda: "fenced" in a.stderr_text(), timeout=180, what="A's stale batch to fail its CAS")
                    except AssertionError as e:
                        raise AssertionError(f"{e}\nA said:\n{a.stderr_text()}\nB said:\n{b.stderr_text()}")
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
