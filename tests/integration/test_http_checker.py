"""The http_checker source against local HTTP and HTTPS servers: every
outcome of a check, success or failure, becomes a record with its fields."""
import contextlib
import datetime
import json
import http.server
import os
import re
import signal
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

from harness import TempDirTest, broker, closed_port, process, read_topic, run, wait_for

BODY = b"<html><body>Hello   World</body></html>"
BIG = 200_000
MAX_BODY = 10_000


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real sites do

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", headers=(), send_body=True):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def do_HEAD(self):
        self.server.seen.append(("HEAD", self.path, dict(self.headers)))
        self.server.arrivals.append((self.path, time.monotonic()))
        self.reply(200, BODY, send_body=False)

    def do_GET(self):
        self.server.seen.append(("GET", self.path, dict(self.headers)))
        self.server.arrivals.append((self.path, time.monotonic()))
        if self.path == "/ok":
            self.reply(200, BODY, [("Content-Type", "text/html")])
        elif self.path == "/404":
            self.reply(404, b"not here")
        elif self.path == "/500":
            self.reply(500, b"broken")
        elif self.path in ("/slow", "/slow?overrun"):
            # Answers only when the test ends (or after 10 s): well past the 1 s timeout.
            self.server.release.wait(10)
            self.reply(200, BODY)
        elif self.path == "/loop":
            self.reply(302, b"", [("Location", "/loop")])
        elif self.path == "/big":
            self.reply(200, b"x" * BIG)
        elif self.path == "/header":
            ok = self.headers.get("X-Sluice-Check") == "yes"
            self.reply(200 if ok else 400, b"header " + (b"ok" if ok else b"missing"))
        else:
            self.reply(404, b"")


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, context=None):
        super().__init__(("127.0.0.1", 0), Handler)
        self.seen = []
        self.arrivals = []
        self.release = threading.Event()
        if context:
            self.socket = context.wrap_socket(self.socket, server_side=True)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    def handle_error(self, request, client_address):
        pass  # clients that time out and hang up are part of the test

    @property
    def port(self):
        return self.server_address[1]

    def close(self):
        self.release.set()
        self.shutdown()
        self.server_close()


def self_signed_cert(directory):
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


def complete_lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        text = f.read()
    return [json.loads(line) for line in text.split("\n")[:-1] if line.strip()]


PIPELINE = """
name = "checks"
[[sources]]
name = "checker"
type = "http_checker"
topic = "checks"
key = "url"
interval = "2s"
timeout = "5s"
max_body_bytes = {max_body}
max_redirects = 5
urls = ["http://127.0.0.1:{port}/ok"]
targets_file = "{targets}"
log_every = "1s"
[[sinks]]
type = "file"
topic = "checks"
path = "{out}"
fsync = false
"""

TARGETS = """
[[targets]]
name = "match"
url = "http://127.0.0.1:{port}/ok"
regex = "Hello\\\\s+World"

[[targets]]
name = "nomatch"
url = "http://127.0.0.1:{port}/ok"
regex = "Goodbye"

[[targets]]
name = "notfound"
url = "http://127.0.0.1:{port}/404"

[[targets]]
name = "error"
url = "http://127.0.0.1:{port}/500"

[[targets]]
name = "slow"
url = "http://127.0.0.1:{port}/slow"
timeout = "1s"

[[targets]]
name = "overrun"
url = "http://127.0.0.1:{port}/slow?overrun"
interval = "300ms"
timeout = "1s"

[[targets]]
name = "refused"
url = "http://127.0.0.1:{refused}/"

[[targets]]
name = "loop"
url = "http://127.0.0.1:{port}/loop"

[[targets]]
name = "big"
url = "http://127.0.0.1:{port}/big"
regex = "^x+"

[[targets]]
name = "head"
url = "http://127.0.0.1:{port}/ok"
method = "HEAD"

[[targets]]
name = "header"
url = "http://127.0.0.1:{port}/header"
headers = {{ "X-Sluice-Check" = "yes" }}

[[targets]]
name = "tls_default"
url = "https://127.0.0.1:{tls}/ok"

[[targets]]
name = "tls_ca"
url = "https://127.0.0.1:{tls}/ok"
ca_file = "{cert}"
"""


class CheckOutcomes(unittest.TestCase):
    """One run of the checker against every kind of target; each test reads its records."""

    @classmethod
    def setUpClass(cls):
        cls._tmp = tempfile.TemporaryDirectory(prefix="sluice-http-")
        d = cls._tmp.name
        cls.http = Server()
        cert, key = self_signed_cert(d)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        cls.https = Server(context)
        # held until the checks are done, so that nothing else can start listening there
        refused = contextlib.ExitStack()
        cls.refused = refused.enter_context(closed_port())
        targets = os.path.join(d, "targets.toml")
        with open(targets, "w") as f:
            f.write(TARGETS.format(port=cls.http.port, refused=cls.refused, tls=cls.https.port, cert=cert))
        out = os.path.join(d, "out.jsonl")
        pipeline = os.path.join(d, "p.toml")
        with open(pipeline, "w") as f:
            f.write(PIPELINE.format(port=cls.http.port, targets=targets, out=out, max_body=MAX_BODY))
        cls.started = datetime.datetime.now(datetime.timezone.utc)
        names = {"match", "nomatch", "notfound", "error", "slow", "refused", "loop", "big", "head", "header",
                 "tls_default", "tls_ca", f"http://127.0.0.1:{cls.http.port}/ok"}
        try:
            with process("run", pipeline, "--progress", "0s", stdout=subprocess.DEVNULL) as p:
                wait_for(lambda: names <= {r["target"] for r in complete_lines(out)}
                         and sum(r["target"] == "overrun" for r in complete_lines(out)) >= 3, timeout=90,
                         what="a record for every target, three for `overrun`")
                p.signal(signal.SIGTERM)
                cls.exit_code = p.wait(timeout=30)
                cls.log = p.stderr_text()
        finally:
            refused.close()
            cls.http.close()
            cls.https.close()
        cls.records = complete_lines(out)
        cls.first = {}
        for r in cls.records:
            cls.first.setdefault(r["target"], r)

    @classmethod
    def tearDownClass(cls):
        cls._tmp.cleanup()

    def rec(self, name):
        r = self.first[name]
        self.assertEqual(set(r), {"url", "method", "status", "response_ms", "ttfb_ms", "bytes", "regex",
                                  "regex_matched", "error", "error_detail", "checked_at", "target"})
        checked_at = datetime.datetime.strptime(r["checked_at"], "%Y-%m-%dT%H:%M:%S.%f%z")
        self.assertTrue(r["checked_at"].endswith("Z"))
        self.assertGreaterEqual(checked_at, self.started - datetime.timedelta(seconds=1))
        self.assertLessEqual(checked_at, datetime.datetime.now(datetime.timezone.utc))
        self.assertGreaterEqual(r["response_ms"], 0)
        return r

    def assert_failed(self, r, error, status=None):
        self.assertEqual(r["error"], error, r)
        self.assertIsInstance(r["error_detail"], str)
        self.assertTrue(r["error_detail"])
        self.assertEqual(r["status"], status, r)

    def test_stops_on_sigterm_with_exit_0_and_a_summary(self):
        self.assertEqual(self.exit_code, 0, self.log)
        self.assertRegex(self.log, r"checker: summary: checks: \d+, failed: \d+")
        self.assertRegex(self.log, r"checker: checks: \d+ \([\d.]+/s\), failed: \d+, scheduling lag avg")

    def test_200_with_regex_match(self):
        r = self.rec("match")
        self.assertEqual(r["url"], f"http://127.0.0.1:{self.http.port}/ok")
        self.assertEqual((r["method"], r["status"], r["error"], r["error_detail"]), ("GET", 200, None, None))
        self.assertEqual(r["regex"], "Hello\\s+World")
        self.assertIs(r["regex_matched"], True)
        self.assertEqual(r["bytes"], len(BODY))
        self.assertGreater(r["response_ms"], 0)
        self.assertLessEqual(r["ttfb_ms"], r["response_ms"])

    def test_200_without_regex_match(self):
        r = self.rec("nomatch")
        self.assertEqual((r["status"], r["error"], r["regex"]), (200, None, "Goodbye"))
        self.assertIs(r["regex_matched"], False)

    def test_short_form_url_uses_the_url_as_name_and_no_regex(self):
        r = self.rec(f"http://127.0.0.1:{self.http.port}/ok")
        self.assertEqual((r["status"], r["error"], r["regex"], r["regex_matched"]), (200, None, None, None))

    def test_404_and_500_are_recorded_as_unexpected_status(self):
        r = self.rec("notfound")
        self.assert_failed(r, "unexpected_status", 404)
        self.assertIn("404 is not in 200-399", r["error_detail"])
        self.assertEqual(r["bytes"], len(b"not here"))
        self.assert_failed(self.rec("error"), "unexpected_status", 500)

    def test_slower_than_timeout(self):
        r = self.rec("slow")
        self.assert_failed(r, "timeout")
        self.assertIsNone(r["ttfb_ms"])
        self.assertGreaterEqual(r["response_ms"], 900)
        # The server answers after 10 s: well below that, the 1 s timeout was
        # enforced, with room for a loaded machine that notices it late.
        self.assertLess(r["response_ms"], 8000)

    def test_a_check_that_outlasts_its_interval_is_not_started_twice(self):
        starts = [t for path, t in self.http.arrivals if path == "/slow?overrun"]
        self.assertGreaterEqual(len(starts), 3)
        gaps = [b - a for a, b in zip(starts, starts[1:])]
        # Each waits for the 1 s timeout of the last, where a second start on
        # the 300 ms interval would come 0.3 s after the first. The margin below
        # 1 s is for arrival times that a loaded machine delays unevenly.
        self.assertTrue(all(g > 0.7 for g in gaps), gaps)
        self.assertTrue(all(r["error"] == "timeout" for r in self.records if r["target"] == "overrun"))
        skipped = re.findall(r"checker: summary: .*skipped slots: (\d+)", self.log)
        self.assertTrue(skipped and int(skipped[0]) >= 2, self.log)

    def test_connection_refused(self):
        r = self.rec("refused")
        self.assert_failed(r, "connect_refused")
        self.assertEqual(r["url"], f"http://127.0.0.1:{self.refused}/")
        self.assertIn("onnect", r["error_detail"])

    def test_redirect_loop(self):
        r = self.rec("loop")
        self.assert_failed(r, "too_many_redirects", 302)
        self.assertIn("5", r["error_detail"])

    def test_body_larger_than_max_body_bytes(self):
        r = self.rec("big")
        self.assert_failed(r, "body_too_large", 200)
        self.assertGreater(r["bytes"], MAX_BODY)
        self.assertLess(r["bytes"], BIG)
        self.assertIs(r["regex_matched"], True)  # searched over what was kept

    def test_head(self):
        r = self.rec("head")
        self.assertEqual((r["method"], r["status"], r["error"], r["bytes"]), ("HEAD", 200, None, 0))
        self.assertIn("HEAD", [m for m, path, _ in self.http.seen if path == "/ok"])

    def test_custom_header_is_sent(self):
        r = self.rec("header")
        self.assertEqual((r["status"], r["error"]), (200, None))
        sent = [h for _, path, h in self.http.seen if path == "/header"]
        self.assertTrue(sent)
        self.assertTrue(all(h.get("X-Sluice-Check") == "yes" for h in sent))
        self.assertTrue(all(h.get("User-Agent") == "sluice-http-checker/0.1" for h in sent))

    def test_self_signed_tls_fails_verification_by_default(self):
        r = self.rec("tls_default")
        self.assert_failed(r, "tls")
        self.assertIn("certificate", r["error_detail"].lower())

    def test_self_signed_tls_passes_with_ca_file(self):
        r = self.rec("tls_ca")
        self.assertEqual((r["status"], r["error"], r["url"]), (200, None, f"https://127.0.0.1:{self.https.port}/ok"))

    def test_each_target_is_checked_again_on_its_interval(self):
        self.assertGreaterEqual(len(self.records), len(self.first))
        for name, r in self.first.items():
            self.assertTrue(r["url"].startswith(("http://127.0.0.1:", "https://127.0.0.1:")))


class KeyedByUrl(TempDirTest):
    def test_records_are_keyed_by_url_so_a_targets_checks_share_a_partition(self):
        http = Server()
        self.addCleanup(http.close)
        urls = [f"http://127.0.0.1:{http.port}/ok?{i}" for i in range(6)]
        path = self.write("p.toml", f"""
[kafka]
bootstrap_servers = "${{KAFKA_BOOTSTRAP}}"
compression = "gzip"  # a codec kafka-python reads without extra libraries
[[sources]]
name = "checker"
type = "http_checker"
topic = "keyed"
partitions = 4
interval = "300ms"
urls = {json.dumps(urls)}
""")
        with broker("keyed:4") as address:
            with process("run", path, "--only", "sources", "--progress", "0s", env={"KAFKA_BOOTSTRAP": address}) as p:
                wait_for(lambda: len(http.seen) >= 30, what="30 checks")
                p.signal(signal.SIGTERM)
                self.assertEqual(p.wait(timeout=30), 0, p.stderr_text())
            messages = read_topic(address, "keyed", 4)
        self.assertGreaterEqual(len(messages), 24)
        partition_of = {}
        for m in messages:
            url = json.loads(m.value)["url"]
            self.assertEqual(m.key.decode(), url)
            self.assertEqual(partition_of.setdefault(url, m.partition), m.partition)
        self.assertEqual(set(partition_of), set(urls))


class ConfigErrors(TempDirTest):
    def pipeline(self, extra):
        return self.write("p.toml", f"""
[[sources]]
name = "checker"
type = "http_checker"
topic = "checks"
{extra}
[[sinks]]
type = "stdout"
topic = "checks"
""")

    def test_bad_options_are_reported_by_check_and_run_with_position(self):
        path = self.pipeline('urls = ["http://127.0.0.1:1/"]\nmethod = "POST"\ninterval = "soon"\n')
        for verb in ("check", "run"):
            proc = run(verb, path, check=2)
            self.assertIn(f"{path}:7:10: error: sources[0].method: `POST` is not one of: GET, HEAD", proc.stderr)
            self.assertIn(f"{path}:8:12: error: sources[0].interval: `soon` is not a duration", proc.stderr)

    def test_invalid_regex_in_targets_file_stops_check_and_run_with_file_line_col(self):
        targets = self.write("targets.toml", '[[targets]]\nurl = "http://127.0.0.1:1/"\nregex = "Hello (World"\n'
                                             '[[targets]]\nurl = "gopher://127.0.0.1/"\n')
        path = self.pipeline(f'targets_file = "{targets}"\n')
        for verb in ("check", "run"):
            proc = run(verb, path, check=2)
            self.assertIn(f"{targets}:3:9: error: targets[0].regex: invalid regex: missing closing parenthesis "
                          "at offset 12", proc.stderr)
            self.assertIn(f"{targets}:5:7: error: targets[1].url: `gopher://127.0.0.1/`: only http and https",
                          proc.stderr)

    def test_a_relative_targets_file_is_taken_from_the_pipeline_files_directory(self):
        self.write("targets.toml", '[[targets]]\nurl = "http://127.0.0.1:1/"\nregex = "("\n')
        path = self.pipeline('targets_file = "targets.toml"\n')
        # The test runs elsewhere: the file is found beside the pipeline, and its errors name it there.
        self.assertNotEqual(os.getcwd(), self.dir)
        proc = run("check", path, check=2)
        self.assertIn(f"{os.path.join(self.dir, 'targets.toml')}:3:9: error: targets[0].regex", proc.stderr)

    def test_invalid_source_regex_or_status_stops_check_and_run(self):
        path = self.pipeline('urls = ["http://127.0.0.1:1/"]\nregex = "a("\nexpect_status = "2xx"\n')
        proc = run("check", path, check=2)
        # The option table's own validators: each at its key's value, not at the [[sources]] line.
        self.assertIn(f"{path}:7:9: error: sources[0].regex: invalid regex: missing closing "
                      "parenthesis at offset 2", proc.stderr)
        self.assertIn(f"{path}:8:17: error: sources[0].expect_status: `2xx` is not a status code", proc.stderr)
        proc = run("run", path, check=2)
        self.assertIn(f"{path}:7:9: error: sources[0].regex: invalid regex: missing closing parenthesis at offset 2",
                      proc.stderr)


if __name__ == "__main__":
    unittest.main()
