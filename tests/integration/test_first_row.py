"""Time to first row, asserted as behaviour (never timed): a pipeline whose
sinks share this process with the embedded broker takes every partition
directly instead of joining a consumer group (whose first join waits 3 s on
the embedded broker), and its exactly-once bookkeeping is the same as a
group member's: all partitions given to the sink, offsets stored per
partition in PostgreSQL and committed to Kafka, revoked on leaving. A
separate broker keeps the group, which several instances share (the share
itself is test_postgres.py's test_two_instances_share_partitions_and_one_takes_over).

librdkafka's `cgrp` debug lines show whether a group was joined: a
JoinGroup response is logged for every join, and each offset commit's result."""
import re
import subprocess

import test_hostile_runtime as hostile
from harness import TempDirTest, broker, process, run, wait_for
from pg import Postgres

TABLE = """CREATE TABLE routes (seq bigint NOT NULL, user_id integer NOT NULL, ts timestamptz NOT NULL,
  lat double precision NOT NULL, lon double precision NOT NULL)"""

PIPELINE = """name = "first"
[kafka]
bootstrap_servers = "${{KAFKA_BOOTSTRAP:-embedded}}"
librdkafka = {{ debug = "cgrp", "session.timeout.ms" = 6000 }}
[[sources]]
name = "gen"
type = "random_routes"
topic = "routes"
key = "user_id"
partitions = {partitions}
count = {count}
[[sinks]]
name = "store"
type = "postgres"
topic = "routes"
conninfo = "${{PG_URI}}"
table = "routes"
batch_max_rows = {batch}
"""

# A run that does not end in this long has hung; a slow machine stays below it.
EXIT_BOUND = 120

JOINED = "JoinGroup response"
COMMITTED = re.compile(r"OffsetCommit for \d+ partition\(s\).*: returned: Success")


class FirstRow(TempDirTest):
    def setUp(self):
        super().setUp()
        self.pg = Postgres()
        self.addCleanup(self.pg.close)
        self.pg.sql(TABLE)

    def pipeline(self, count, partitions=4, batch=1000):
        return self.write("p.toml", PIPELINE.format(count=count, partitions=partitions, batch=batch))

    def run_bounded(self, path, env):
        try:
            return run("--log-level", "debug", "run", path, "--progress", "0s", env={"PG_URI": self.pg.dsn, **env},
                       timeout=EXIT_BOUND)
        except subprocess.TimeoutExpired as e:
            self.fail(f"sluice run {path} hung: still running after {EXIT_BOUND}s\n{e.stderr!r}")

    def stored_offsets(self):
        """consumer group -> {partition: next offset} from the sink's offsets table."""
        out = {}
        for group, partition, offset in self.pg.sql("SELECT consumer_group, partition, next_offset FROM sluice_offsets"):
            out.setdefault(group, {})[int(partition)] = int(offset)
        return out

    def test_the_embedded_broker_assigns_every_partition_directly_and_stores_each_run_once(self):
        n, partitions = 3000, 4
        path = self.pipeline(n, partitions)
        groups = []
        for runs in (1, 2):
            proc = self.run_bounded(path, env={})
            log = proc.stderr
            self.assertEqual(proc.returncode, 0, log)
            self.assertIn(f"routes: assigning its {partitions} partitions directly", log)
            # every partition, from offset 0 of this run's fresh log, in one assignment
            self.assertEqual(re.findall(r"routes: assigned partitions (.*)", log), ["0@0 1@0 2@0 3@0"], log)
            self.assertNotIn(JOINED, log)
            # offsets still reach Kafka, under the run's group, without a generation
            self.assertRegex(log, COMMITTED)
            self.assertNotIn("giving up committing offsets", log)
            # the partitions are given back on leaving, as a group's revocation would
            self.assertIn("routes: revoking partitions 0 1 2 3 on leaving", log)
            self.assertEqual(int(self.pg.scalar("SELECT count(*) FROM routes")), n * runs, log)
            stored = self.stored_offsets()
            self.assertEqual(len(stored), runs, stored)
            groups = list(stored)
        # each run stored every one of its records once, keyed by its own log
        for group in groups:
            self.assertRegex(group, r"^sluice\.first\.store@embedded-[0-9a-f]{16}$")
            self.assertEqual(sorted(self.stored_offsets()[group]), list(range(partitions)))
            self.assertEqual(sum(self.stored_offsets()[group].values()), n)
        count, distinct = self.pg.sql("SELECT count(*), count(DISTINCT seq) FROM routes")[0]
        self.assertEqual((int(count), int(distinct)), (2 * n, n))

    def test_a_separate_broker_keeps_the_consumer_group(self):
        n, partitions = 2000, 4
        path = self.pipeline(n, partitions)
        with broker(f"routes:{partitions}") as address:
            proc = self.run_bounded(path, env={"KAFKA_BOOTSTRAP": address})
        log = proc.stderr
        self.assertEqual(proc.returncode, 0, log)
        # other instances may read the same topic: the group divides it
        self.assertIn(JOINED, log)
        self.assertNotIn("partitions directly", log)
        self.assertRegex(log, COMMITTED)
        self.assertEqual(self.pg.sql("SELECT count(*), count(DISTINCT seq) FROM routes")[0], [str(n), str(n)])
        self.assertEqual(self.stored_offsets()["sluice.first.store"].keys(), set(range(partitions)))
        self.assertEqual(sum(self.stored_offsets()["sluice.first.store"].values()), n)

    def test_fenced_with_direct_assignment_it_rereads_the_stored_offset_and_seeks_there(self):
        # One partition, so a record's offset is its seq. The batch carrying
        # record n/2 waits inside COPY; meanwhile "another instance" stores
        # an offset 100 records past what this one stored. Its offsets check
        # then fails: the batch is rolled back, the sink reads the stored
        # offset again and seeks there, without any rebalance to lean on.
        n, skipped = 6000, 100
        path = self.pipeline(n, partitions=1, batch=500)
        self.pg.sql("""CREATE FUNCTION hold() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN IF NEW.seq = %d THEN PERFORM pg_advisory_xact_lock_shared(42); END IF; RETURN NEW; END $$;
            CREATE TRIGGER hold BEFORE INSERT ON routes FOR EACH ROW EXECUTE FUNCTION hold()""" % (n // 2))
        lock = hostile.HeldLock(self.pg)
        self.addCleanup(lock.release)
        with process("--log-level", "debug", "run", path, "--progress", "0s", env={"PG_URI": self.pg.dsn}) as p:
            wait_for(lambda: self.pg.scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                                            "'sluice' AND wait_event_type = 'Lock'") != "0",
                     timeout=EXIT_BOUND, what="the sink's COPY to wait")
            log = p.stderr_text()
            self.assertIn("routes: assigning its 1 partitions directly", log)
            group = "sluice.first.store" + re.search(r"consumer group suffix `([^`]+)`", log).group(1)
            stored = self.stored_offsets().get(group, {}).get(0, 0)
            self.assertLessEqual(stored, n // 2)
            self.pg.sql(f"""SET lock_timeout = '30s';
                INSERT INTO sluice_offsets (consumer_group, topic, partition, next_offset)
                VALUES ('{group}', 'routes', 0, {stored + skipped})
                ON CONFLICT (consumer_group, topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset""")
            lock.release()  # the held COPY goes on, and its offsets check fails
            try:
                rc = p.wait(timeout=EXIT_BOUND)
            except subprocess.TimeoutExpired:
                self.fail(f"the fenced run did not end\n{p.stderr_text()}")
            log = p.stderr_text()
        self.assertEqual(rc, 0, log)
        self.assertRegex(log, r"store: fenced, batch of \d+ rolled back; re-reading stored offsets and seeking")
        self.assertNotIn(JOINED, log)
        # every record once, except those the other instance's offset covers
        self.assertEqual(self.stored_offsets()[group], {0: n})
        seqs = {int(row[0]) for row in self.pg.sql("SELECT seq FROM routes")}
        self.assertEqual(int(self.pg.scalar("SELECT count(*) FROM routes")), len(seqs))
        self.assertEqual(set(range(n)) - seqs, set(range(stored, stored + skipped)))
