"""`sluice tap` and `sluice top` against a running pipeline's HTTP server
(/api/tap, /api/rejects, /api/status), and `--log-format json`: records of
a source step and of a sink step, a reject with validate_route.lua's
reason, the top table in its non-tty form, an unknown step and an address
nobody serves, poison bytes shown escaped, and JSON log lines."""
import json
import re
import os
import socket
import subprocess
import urllib.request

from harness import SLUICE, SOURCE_DIR, TempDirTest, closed_port, process, run, wait_for
from pg import Postgres

VALIDATE = os.path.join(SOURCE_DIR, "transforms", "validate_route.lua")
TABLE = open(os.path.join(SOURCE_DIR, "pipelines", "routes.sql")).read()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(addr, path):
    try:
        with urllib.request.urlopen(f"http://{addr}{path}", timeout=5) as r:
            return r.status, r.read().decode()
    except OSError:
        return None, ""


def serving(addr):
    """Waits until the pipeline's HTTP server answers /api/status."""
    wait_for(lambda: get(addr, "/api/status")[0] == 200, timeout=60, what=f"the HTTP server at {addr}")


def sluice(*args, timeout=60, stdin=None):
    return subprocess.run([SLUICE, *args], capture_output=True, timeout=timeout, input=stdin)


class RunningPipeline(TempDirTest):
    """random_routes (with invalid records) -> Kafka -> validate_route.lua -> PostgreSQL."""

    def setUp(self):
        super().setUp()
        self.pg = Postgres()
        self.addCleanup(self.pg.close)
        self.pg.sql(TABLE)
        self.addr = f"127.0.0.1:{free_port()}"
        path = self.write("p.toml", f"""
name = "tapped"
[http]
listen = "{self.addr}"
[[sources]]
name = "routes"
type = "random_routes"
topic = "routes"
key = "user_id"
partitions = 2
rate = 200
invalid_ratio = 0.2
[[sinks]]
name = "store"
type = "postgres"
topic = "routes"
conninfo = "${{PG_URI}}"
table = "routes"
batch_max_wait = "50ms"
transforms = ["{VALIDATE}"]
""")
        self.proc = process("run", path, "--progress", "0s", env={"PG_URI": self.pg.dsn})
        self.running = self.proc.__enter__()
        self.addCleanup(self.proc.__exit__, None, None, None)
        serving(self.addr)
        wait_for(lambda: int(self.pg.scalar("SELECT count(*) FROM routes")) > 0, timeout=60, what="rows stored")

    def tap(self, *args, timeout=60):
        proc = sluice("tap", "--addr", self.addr, *args, timeout=timeout)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        return [line for line in proc.stdout.decode().splitlines() if line]

    def test_tap_shows_the_records_a_source_produces_after_its_transforms(self):
        lines = self.tap("routes", "--limit", "3")
        self.assertEqual(len(lines), 3)
        for line in lines:
            record = json.loads(line)
            self.assertEqual(record["step"], "routes")
            self.assertEqual(record["topic"], "routes")
            self.assertIsNone(record["offset"])  # not yet in Kafka when tapped
            if "record" in record:  # JSON: embedded as is, its key extracted when it has one
                self.assertIn("seq", record["record"])
                if "user_id" in record["record"]:
                    self.assertEqual(record["key"], str(record["record"]["user_id"]))
                else:  # one of random_routes' invalid records, without the key field
                    self.assertIsNone(record["key"])
            else:  # random_routes' invalid ratio includes text that is not JSON
                self.assertIn("record_text", record)

    def test_tap_shows_what_a_sink_is_given_with_its_kafka_position(self):
        lines = self.tap("store", "--limit", "5")
        self.assertEqual(len(lines), 5)
        for line in lines:
            record = json.loads(line)
            self.assertEqual(record["step"], "store")
            self.assertIn(record["partition"], (0, 1))
            self.assertGreaterEqual(record["offset"], 0)
            self.assertGreater(record["time"], 1.6e9)
            # validate_route.lua passed it: a valid route (rejects are not given to the sink as rows)
            self.assertTrue(-90 <= record["record"]["lat"] <= 90, line)

    def test_tap_rejects_shows_validate_routes_reason(self):
        # Rejects reach the ring once the sink's transforms report them (StepTelemetry::reject).
        lines = self.tap("store", "--rejects", "--limit", "1", timeout=90)
        self.assertEqual(len(lines), 1)
        self.assertTrue(lines[0].startswith('REJECTED: "'), lines[0])
        reason = json.loads(lines[0][len("REJECTED: "):lines[0].index("  | ")])
        self.assertTrue(reason.startswith("validate_route.lua: ") or reason.startswith("not valid JSON"), reason)
        self.assertIn("| record: ", lines[0])
        status, body = get(self.addr, "/api/rejects?step=store")
        self.assertEqual(status, 200)
        rejects = json.loads(body)
        self.assertGreaterEqual(rejects["last"], 1)
        self.assertTrue(all(r["step"] == "store" and r["reason"] for r in rejects["rejects"]))

    def test_top_once_prints_one_line_per_step_with_its_rate_and_state(self):
        def top_once():
            proc = sluice("top", "--addr", self.addr, "--once")
            self.assertEqual(proc.returncode, 0, proc.stderr.decode())
            return proc.stdout.decode()

        def sink_lag_known():
            out = top_once()
            return out if re.search(r"(?m)^.*step=store .*lag_records=\d+", out) else None

        # The sink's lag is known once it holds partitions and has asked for their watermarks.
        out = wait_for(sink_lag_known, timeout=30, what="top showing the sink's lag")
        self.assertNotIn("\x1b", out)  # not a tty: no ANSI
        lines = out.splitlines()
        self.assertEqual(len(lines), 2, out)
        fields = [dict(kv.split("=", 1) for kv in line.split(" ") if "=" in kv) for line in lines]
        self.assertEqual([f["step"] for f in fields], ["routes", "store"])
        self.assertEqual([f["kind"] for f in fields], ["source", "sink"])
        for f in fields:
            self.assertIn(f["state"], ("starting", "up", "retrying"))
            self.assertTrue(f["rate"].endswith("/s"), f)
            float(f["rate"][:-2])
            int(f["total"])
        self.assertEqual(fields[0]["lag_records"], "-")  # a source has no lag
        int(fields[1]["lag_records"])

    def test_tap_on_an_unknown_step_names_the_known_ones(self):
        proc = sluice("tap", "--addr", self.addr, "nope", "--limit", "1")
        self.assertEqual(proc.returncode, 2)
        err = proc.stderr.decode()
        self.assertIn('no step named "nope"', err)
        self.assertIn("the steps are: ", err)
        self.assertEqual(sorted(err.split("the steps are: ")[1].strip().split(", ")), ["routes", "store"])
        status, body = get(self.addr, "/api/tap?step=nope")
        self.assertEqual(status, None)  # urllib raises on 404: checked through the CLI above


class Unreachable(TempDirTest):
    def test_tap_and_top_name_the_address_nobody_serves(self):
        with closed_port() as port:
            for verb in (["tap", "x"], ["top", "--once"]):
                proc = sluice(verb[0], "--addr", f"127.0.0.1:{port}", *verb[1:])
                self.assertEqual(proc.returncode, 1)
                err = proc.stderr.decode()
                self.assertIn(f"no sluice HTTP server answers at 127.0.0.1:{port}", err)
                self.assertIn("[http] listen", err)

    def test_a_bad_address_is_a_usage_error(self):
        proc = sluice("tap", "--addr", "localhost", "x")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("is not HOST:PORT", proc.stderr.decode())


class PoisonBytes(TempDirTest):
    def test_a_record_that_is_not_utf8_is_shown_escaped(self):
        addr = f"127.0.0.1:{free_port()}"
        out = os.path.join(self.dir, "out.jsonl")
        path = self.write("p.toml", f"""
name = "poison"
[http]
listen = "{addr}"
[[sources]]
name = "lines"
type = "stdin"
topic = "lines"
[[sinks]]
name = "file"
type = "file"
topic = "lines"
path = "{out}"
""")
        pipeline = subprocess.Popen([SLUICE, "run", path, "--progress", "0s"], stdin=subprocess.PIPE,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        tap = None
        try:
            serving(addr)
            tap = subprocess.Popen([SLUICE, "tap", "--addr", addr, "lines", "--limit", "1"], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE)
            # stdin skips lines that are not JSON (so bytes that are not UTF-8 are
            # covered by core_test TapJson.*): JSON with escaped control characters.
            poison = b'{"s":"bad \\u001b[31m \\"q\\" \\u0001 end"}\n'

            def tapped():
                # Until the tap is open a line passes unseen: write one each round.
                pipeline.stdin.write(poison)
                pipeline.stdin.flush()
                try:
                    tap.wait(timeout=0.2)
                    return True
                except subprocess.TimeoutExpired:
                    return False
            wait_for(tapped, timeout=60, what="the tap to print a line")
            line = tap.stdout.read()
            self.assertEqual(tap.returncode, 0, tap.stderr.read())
            self.assertNotIn(b"\x1b", line)
            record = json.loads(line)
            self.assertEqual(record["record"]["s"], 'bad \x1b[31m "q" \x01 end')
        finally:
            if tap and tap.poll() is None:
                tap.kill()
                tap.wait()
            pipeline.stdin.close()
            pipeline.wait(timeout=60)
            if tap:
                tap.stdout.close()
                tap.stderr.close()


class JsonLogs(TempDirTest):
    def pipeline(self):
        # A sink-side reject with a reason holding a quote and a newline is logged (no dead letter).
        script = self.write("odd.lua", 'function transform(r)\n'
                                       '  if r.seq % 10 == 0 then return nil, \'say "no"\\nthen stop\' end\n'
                                       '  return r\nend\n')
        return self.write("p.toml", f"""
name = "logged"
[http]
listen = ""
[[sources]]
name = "routes"
type = "random_routes"
topic = "routes"
count = 100
[[sinks]]
name = "out"
type = "file"
topic = "routes"
path = "{os.path.join(self.dir, 'out.jsonl')}"
transforms = ["{script}"]
""")

    def lines(self, proc):
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return [json.loads(line) for line in proc.stderr.splitlines()]

    def test_every_line_is_one_json_object_with_its_fields(self):
        logs = self.lines(run("--log-format", "json", "run", self.pipeline(), timeout=120))
        self.assertTrue(logs)
        for entry in logs:
            self.assertEqual(set(entry) - {"fields"}, {"time", "level", "pipeline", "step", "message"}, entry)
            self.assertRegex(entry["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            self.assertIn(entry["level"], ("trace", "debug", "info", "warning", "error", "critical"))
        rejected = [e for e in logs if "rejected by a transform" in e["message"]]
        self.assertTrue(rejected, logs)
        self.assertIn('say "no"\nthen stop', rejected[0]["message"])
        self.assertEqual(rejected[0]["step"], "out")
        self.assertEqual(rejected[0]["pipeline"], "logged")
        # JSON logs are for programs: no progress line unless asked for.
        self.assertFalse([e for e in logs if e["message"].startswith("logged: ")], logs)

    def test_the_progress_line_when_asked_shows_per_sink_rate_rejected_and_lag(self):
        logs = self.lines(run("--log-format", "json", "run", self.pipeline(), "--progress", "1s", timeout=120))
        progress = [e["message"] for e in logs if e["message"].startswith("logged: ")]
        self.assertTrue(progress, logs)
        last = progress[-1]
        self.assertRegex(last, r"\| out <- routes \d+/s \(100 total, lag \d+(, [\d.]+s behind)?, rejected 10\)")
