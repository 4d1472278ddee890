"""Records travel source -> Kafka -> sink, in one process and across several."""
import collections
import os
import re
import signal

from harness import TempDirTest, broker, process, read_json_lines, run, wait_for

PIPELINE = """
name = "e2e"
[kafka]
bootstrap_servers = "${{KAFKA_BOOTSTRAP:-embedded}}"
# the embedded broker waits a whole session timeout before a group that a
# member left can rebalance; keep it short so restarts rejoin quickly
librdkafka = {{ "session.timeout.ms" = 6000 }}
[[sources]]
type = "random_routes"
topic = "routes"
key = "user_id"
partitions = 8
{source_extra}
[[sinks]]
type = "file"
topic = "routes"
path = "{out}"
"""


class EndToEnd(TempDirTest):
    def pipeline(self, source_extra="count = 1000"):
        self.out = os.path.join(self.dir, "out.jsonl")
        return self.write("p.toml", PIPELINE.format(out=self.out, source_extra=source_extra))

    def test_two_processes_share_one_broker_and_deliver_every_record_once(self):
        path = self.pipeline("count = 100000")
        with broker("routes:8") as address:
            env = {"KAFKA_BOOTSTRAP": address}
            with process("run", path, "--only", "sinks", "--exit-after", "100000", env=env) as sink:
                run("run", path, "--only", "sources", env=env, check=0, timeout=300)
                self.assertEqual(sink.wait(timeout=300), 0, sink.stderr_text())
        seqs = [r["seq"] for r in read_json_lines(self.out)]
        self.assertEqual(len(seqs), 100000)
        self.assertEqual(sorted(seqs), list(range(100000)))

    def test_single_process_with_finite_source_ends_after_draining(self):
        path = self.pipeline("count = 5000")
        proc = run("run", path, "--progress", "0s", check=0)
        records = read_json_lines(self.out)
        self.assertEqual(sorted(r["seq"] for r in records), list(range(5000)), proc.stderr)
        # keyed by user_id: one user's records stay in order within their partition
        by_user = collections.defaultdict(list)
        for r in records:
            by_user[r["user_id"]].append(r["seq"])
        for seqs in by_user.values():
            self.assertEqual(seqs, sorted(seqs))

    def test_sigterm_stops_cleanly_with_exit_0_and_committed_offsets(self):
        path = self.pipeline("rate = 2000")
        with broker("routes:8") as address:
            env = {"KAFKA_BOOTSTRAP": address}
            with process("run", path, env=env) as p:
                wait_for(lambda: os.path.exists(self.out) and os.path.getsize(self.out) > 20000,
                         timeout=120, what="records in the file")
                p.signal(signal.SIGTERM)
                self.assertEqual(p.wait(timeout=60), 0, p.stderr_text())
                log = p.stderr_text()
            # The last progress line counts what the source emitted; all of it was
            # acknowledged before exit, and what the sink wrote was committed, so a
            # restarted sink-only run reads exactly the rest.
            totals = re.findall(r"random_routes -> routes \d+/s \((\d+) total\)", log)
            self.assertTrue(totals, log)
            produced = int(totals[-1])
            first = read_json_lines(self.out)
            seen = {r["seq"] for r in first}
            self.assertEqual(len(seen), len(first), "a record was written twice")
            rest = produced - len(first)
            if rest > 0:
                run("run", path, "--only", "sinks", "--exit-after", str(rest), env=env, check=0, timeout=300)
            final = [r["seq"] for r in read_json_lines(self.out)]
            self.assertEqual(sorted(final), list(range(produced)))


class Retention(TempDirTest):
    """The embedded broker keeps ~5 MB per partition: a consumer that falls
    behind that gets an error naming the partition and offset, not a skip."""

    def test_falling_behind_retention_is_an_error(self):
        out = os.path.join(self.dir, "out.jsonl")

        def pipeline(count):
            return self.write(f"p{count}.toml", f"""
name = "retention"
[kafka]
bootstrap_servers = "${{KAFKA_BOOTSTRAP}}"
compression = "none"
librdkafka = {{ "session.timeout.ms" = 6000 }}
[[sources]]
type = "random_routes"
topic = "kept"
count = {count}
[[sinks]]
name = "out"
type = "file"
topic = "kept"
path = "{out}"
""")
        small, big = pipeline(1000), pipeline(90000)
        with broker("kept:1") as address:
            env = {"KAFKA_BOOTSTRAP": address}
            run("run", small, "--only", "sources", env=env, check=0)
            run("run", small, "--only", "sinks", "--exit-after", "1000", env=env, check=0)
            run("run", big, "--only", "sources", env=env, check=0)  # ~7.5 MB: the start is trimmed
            proc = run("run", big, "--only", "sinks", "--exit-after", "90000", env=env, timeout=300)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertRegex(proc.stderr, r"kept/0 at offset 1000: the offset to read is no longer kept")
        self.assertEqual(len(read_json_lines(out)), 1000)
