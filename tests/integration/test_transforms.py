"""Lua transforms in real pipelines: validate_route.lua between Kafka and
PostgreSQL (rows + rejects = produced), source-side rejects on a dead-letter
topic with their reason in a header, sinks without a dead letter, compile
errors at start, and `sluice test`."""
import json
import os
import subprocess
import time

from harness import SLUICE, SOURCE_DIR, TempDirTest, broker, read_json_lines, read_topic, run
from pg import Postgres

VALIDATE = os.path.join(SOURCE_DIR, "transforms", "validate_route.lua")
ENRICH = os.path.join(SOURCE_DIR, "transforms", "enrich_route.lua")
TABLE = open(os.path.join(SOURCE_DIR, "pipelines", "routes.sql")).read()


class SinkSide(TempDirTest):
    def test_validate_route_into_postgres_rows_plus_rejects_equal_produced(self):
        pg = Postgres()
        self.addCleanup(pg.close)
        pg.sql(TABLE)
        n = 20000
        path = self.write("p.toml", f"""
name = "lua_pg"
[kafka]
librdkafka = {{ "session.timeout.ms" = 6000 }}
[[sources]]
type = "random_routes"
topic = "routes"
key = "user_id"
partitions = 4
count = {n}
invalid_ratio = 0.1
[[sinks]]
name = "store"
type = "postgres"
topic = "routes"
conninfo = "${{PG_URI}}"
table = "routes"
batch_max_rows = 2000
transforms = ["{VALIDATE}"]
""")
        run("run", path, "--progress", "0s", env={"PG_URI": pg.dsn}, check=0, timeout=300)
        rows = int(pg.scalar("SELECT count(*) FROM routes"))
        rejects = int(pg.scalar("SELECT count(*) FROM sluice_rejects"))
        self.assertEqual(rows + rejects, n)
        self.assertGreater(rejects, n * 0.07)
        reasons = [r[0] for r in pg.sql("SELECT reason FROM sluice_rejects")]
        # Every invalid kind is caught by the script (or, not being JSON,
        # before it): none reaches PostgreSQL's own checks.
        for reason in reasons:
            self.assertTrue(reason.startswith("validate_route.lua: ") or reason.startswith("not valid JSON: "), reason)
        self.assertTrue(any(r == "validate_route.lua: lat out of range: north" for r in reasons))
        self.assertTrue(any(r.startswith("validate_route.lua: lat out of range: 9") or
                            r.startswith("validate_route.lua: lat out of range: 1") for r in reasons))
        self.assertTrue(any(r == "validate_route.lua: user_id must be a positive integer, got none" for r in reasons))
        self.assertTrue(any(r.startswith("not valid JSON: ") for r in reasons))
        raw = pg.scalar("SELECT convert_from(raw_value, 'UTF8') FROM sluice_rejects "
                        "WHERE reason LIKE '%lat out of range: north' LIMIT 1")
        self.assertIn('"lat":"north"', raw)  # the record as consumed, not as the script saw it
        # exactly once: each offset in one place, and the stored offsets cover everything
        self.assertEqual(pg.scalar(
            "SELECT count(*) FROM (SELECT partition, \"offset\" FROM sluice_rejects GROUP BY 1, 2 HAVING count(*) > 1) d"), "0")
        count, distinct = pg.sql("SELECT count(*), count(DISTINCT seq) FROM routes")[0]
        self.assertEqual(count, distinct)
        self.assertEqual(sum(int(r[0]) for r in pg.sql("SELECT next_offset FROM sluice_offsets")), n)

    def test_dropped_records_still_advance_the_stored_offsets(self):
        pg = Postgres()
        self.addCleanup(pg.close)
        pg.sql(TABLE)
        n = 3000
        keep_few = self.write("keep_few.lua", "function transform(r) if r.seq % 1000 == 0 then return r end end")
        path = self.write("p.toml", f"""
name = "lua_drop"
[[sources]]
type = "random_routes"
topic = "routes"
partitions = 2
count = {n}
[[sinks]]
name = "store"
type = "postgres"
topic = "routes"
conninfo = "${{PG_URI}}"
table = "routes"
batch_max_rows = 100
transforms = ["{keep_few}"]
""")
        run("run", path, "--progress", "0s", env={"PG_URI": pg.dsn}, check=0, timeout=300)
        self.assertEqual(pg.scalar("SELECT count(*) FROM routes"), "3")
        # Whole batches were dropped, yet PostgreSQL's offsets cover every
        # record, so a restart does not read (and run the script on) them again.
        self.assertEqual(sum(int(r[0]) for r in pg.sql("SELECT next_offset FROM sluice_offsets")), n)

    def file_pipeline(self, out, count, source="", sink=""):
        """random_routes -> Kafka -> a file sink, with extra lines for each."""
        return self.write("p.toml", f"""
[[sources]]
type = "random_routes"
topic = "routes"
count = {count}
{source}
[[sinks]]
type = "file"
topic = "routes"
path = "{out}"
{sink}
""")

    def test_sink_without_dead_letter_skips_rejects_and_logs_them_once(self):
        out = os.path.join(self.dir, "out.jsonl")
        split = self.write("split.lua", """
function transform(r, meta)
  if r.seq % 10 == 0 then return nil end                  -- drop
  if r.seq % 10 == 1 then return sluice.many{r, {copy_of = r.seq}} end  -- split
  return r
end
""")
        path = self.file_pipeline(out, 2000, source="invalid_ratio = 0.1",
                                  sink=f'transforms = ["{VALIDATE}", "split.lua", "{ENRICH}"]')
        proc = run("run", path, "--progress", "0s", check=0, timeout=120)
        records = read_json_lines(out)
        originals = [r for r in records if "copy_of" not in r]
        copies = [r for r in records if "copy_of" in r]
        seqs = [r["seq"] for r in originals]
        self.assertEqual(len(seqs), len(set(seqs)))
        self.assertTrue(all(s % 10 != 0 for s in seqs))
        self.assertEqual(sorted(c["copy_of"] for c in copies), sorted(s for s in seqs if s % 10 == 1))
        self.assertTrue(all(-90 <= r["lat"] <= 90 and r["hemisphere"] in ("N", "S") for r in originals))
        self.assertGreater(len(originals), 1400)
        self.assertLess(len(originals), 1800)
        # Rejects are not written; the log says so once, not once per record.
        self.assertEqual(proc.stderr.count("rejected by a transform, the sink has no dead letter"), 1, proc.stderr)
        self.assertIn("routes/0 at offset", proc.stderr)

    def test_sink_side_scripts_read_the_kafka_headers_and_timestamp(self):
        out = os.path.join(self.dir, "out.jsonl")
        # Headers and timestamp are read from the message only when asked for.
        stamp = self.write("stamp.lua", """
function transform(r, meta)
  if r.seq % 2 == 0 then
    r.header = meta.headers["enriched-by"]
    r.received = meta.timestamp
  end
  return r
end
""")
        path = self.file_pipeline(out, 1000, source=f'transforms = ["{ENRICH}"]',
                                  sink=f'batch_max_rows = 100\ntransforms = ["{stamp}"]')
        started = time.time()
        run("run", path, "--progress", "0s", check=0, timeout=120)
        records = read_json_lines(out)
        self.assertEqual(sorted(r["seq"] for r in records), list(range(1000)))
        for r in records:
            if r["seq"] % 2:
                self.assertNotIn("header", r)
                continue
            self.assertEqual(r["header"], "enrich_route.lua")
            self.assertGreaterEqual(r["received"], started - 1)
            self.assertLessEqual(r["received"], time.time() + 1)


    def test_each_record_of_a_backlog_gets_its_own_headers_in_batches_of_several_polls(self):
        # A batch fills from several polls (of at most 4,096 messages): the
        # script runs on each record while its message is still held, and
        # must be given that record's headers, not a neighbour's.
        n = 12000
        tag = self.write("tag.lua", """
function transform(r, meta)
  if r.seq % 3 ~= 0 then meta.set_header("seq", tostring(r.seq)) end
  return r
end
""")
        copy = self.write("copy.lua", """
function transform(r, meta)
  r.hseq = meta.headers.seq or "none"
  return r
end
""")
        out = os.path.join(self.dir, "out.jsonl")
        path = self.write("p.toml", f"""
[kafka]
bootstrap_servers = "${{KAFKA_BOOTSTRAP}}"
[[sources]]
type = "random_routes"
topic = "routes"
count = {n}
transforms = ["{tag}"]
[[sinks]]
type = "file"
topic = "routes"
path = "{out}"
transforms = ["{copy}"]
""")
        with broker("routes:2") as address:
            env = {"KAFKA_BOOTSTRAP": address}
            run("run", path, "--only", "sources", "--progress", "0s", env=env, check=0)
            run("run", path, "--only", "sinks", "--exit-after", str(n), "--progress", "0s", env=env, check=0)
        records = read_json_lines(out)
        self.assertEqual(sorted(r["seq"] for r in records), list(range(n)))
        for r in records:
            self.assertEqual(r["hseq"], "none" if r["seq"] % 3 == 0 else str(r["seq"]), r)


class SourceSide(TempDirTest):
    def test_rejects_go_to_the_dead_letter_topic_with_the_reason_in_a_header(self):
        n = 3000
        path = self.write("p.toml", f"""
[kafka]
bootstrap_servers = "${{KAFKA_BOOTSTRAP}}"
compression = "gzip"
[[sources]]
type = "random_routes"
topic = "good"
key = "user_id"
count = {n}
invalid_ratio = 0.1
transforms = ["{VALIDATE}", "{ENRICH}"]
dead_letter_topic = "bad"
""")
        with broker("good:2", "bad:1") as address:
            run("run", path, "--only", "sources", "--progress", "0s", env={"KAFKA_BOOTSTRAP": address}, check=0)
            good = read_topic(address, "good", 2)
            bad = read_topic(address, "bad", 1)
        self.assertEqual(len(good) + len(bad), n)
        self.assertGreater(len(bad), n * 0.07)
        for m in good:
            record = json.loads(m.value)
            self.assertIn(record["hemisphere"], ("N", "S"))
            self.assertEqual(m.key.decode(), str(record["user_id"]))  # set by enrich_route.lua
            self.assertIn(("enriched-by", b"enrich_route.lua"), m.headers)
        kinds = set()
        for m in bad:
            headers = dict(m.headers)
            reason = headers["sluice.reason"].decode()
            self.assertTrue(reason.startswith("validate_route.lua: ") or reason.startswith("not valid JSON: "), reason)
            kinds.add(reason.split(":")[0] if reason.startswith("not") else reason.split(":")[1])
            if reason.startswith("not valid JSON"):
                self.assertIn(b"<not json>", m.value)  # the original value
            elif "north" in reason:
                self.assertIn(b'"lat":"north"', m.value)
        self.assertIn("not valid JSON", kinds)
        self.assertIn(" lat out of range", kinds)
        self.assertIn(" user_id must be a positive integer, got none", kinds)
        seqs = sorted(json.loads(m.value)["seq"] for m in good)
        self.assertEqual(len(seqs), len(set(seqs)))


class StartUp(TempDirTest):
    def test_a_script_that_does_not_compile_stops_check_and_run(self):
        self.write("bad.lua", "function transform(r)\n  if r.x then\n  return r\nend\n")
        path = self.write("p.toml", """
[[sources]]
type = "random_routes"
topic = "routes"
count = 10
[[sinks]]
type = "stdout"
topic = "routes"
transforms = ["bad.lua"]
""")
        for verb in ("check", "run"):
            proc = run(verb, path, check=2)
            self.assertIn("p.toml:9:14: error: sinks[0].transforms: ", proc.stderr)
            self.assertIn("bad.lua:5: 'end' expected (to close 'function' at line 1) near <eof>", proc.stderr)
            self.assertEqual(proc.stdout if verb == "run" else "", "")

    def test_missing_script_and_bad_limits_are_configuration_errors(self):
        path = self.write("p.toml", """
[[sources]]
type = "random_routes"
topic = "routes"
transforms = ["nowhere.lua"]
transform_memory = "lots"
transform_instructions = 5
""")
        proc = run("check", path, check=2)
        self.assertIn("nowhere.lua: cannot read the script", proc.stderr)
        self.assertIn("sources[0].transform_memory: `lots` is not a size", proc.stderr)
        self.assertIn("sources[0].transform_instructions", proc.stderr)


class SluiceTest(TempDirTest):
    def test_the_shipped_scripts_pass_their_tests(self):
        proc = subprocess.run([SLUICE, "test"], cwd=SOURCE_DIR, capture_output=True, text=True, timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        for name in ("validate_route", "website_check_row", "split_points", "enrich_route"):
            self.assertIn(f"transforms/{name}.test.toml", proc.stdout)
        self.assertIn(" 0 failed", proc.stdout)

    def test_a_directory_runs_every_test_file_under_it(self):
        transforms = os.path.join(SOURCE_DIR, "transforms")
        proc = subprocess.run([SLUICE, "test", transforms], cwd=self.dir, capture_output=True, text=True,
                              timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        shipped = [f for f in os.listdir(transforms) if f.endswith(".test.toml")]
        self.assertTrue(shipped)
        self.assertIn(f"{len(shipped)} file(s):", proc.stdout)
        self.assertIn(" 0 failed", proc.stdout)
        empty = os.path.join(self.dir, "empty")
        os.mkdir(empty)
        proc = run("test", empty, check=2)
        self.assertIn(f"no *.test.toml under {empty}", proc.stderr)

    def test_a_failing_case_shows_a_diff_and_exits_1(self):
        self.write("double.lua", "function transform(r) r.v = r.v * 2 return r end")
        path = self.write("double.test.toml", """
scripts = ["double.lua"]
[[cases]]
name = "doubles"
input = { v = 2, keep = "x" }
output = { v = 5, keep = "x" }
[[cases]]
name = "integer stays integer"
input = { v = 2 }
output = { v = 4 }
[[cases]]
name = "wants a reject"
input = { v = 1 }
reject = "^double%.lua: "
""")
        proc = run("test", path, check=1)
        self.assertIn("FAIL  doubles (line 3)", proc.stdout)
        self.assertIn('-   "v": 5', proc.stdout)
        self.assertIn('+   "v": 4', proc.stdout)
        self.assertIn('    "keep": "x"', proc.stdout)
        self.assertIn("ok    integer stays integer", proc.stdout)
        self.assertIn("expected: reject matching `^double%.lua: ` (Lua pattern)", proc.stdout)
        self.assertIn("1 passed, 2 failed", proc.stdout)
