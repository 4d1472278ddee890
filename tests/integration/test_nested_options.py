"""Option tables that hold nested config, through the real binary: http_checker
targets written inline in the pipeline file (checked at their own keys, and
checked for real against a local server), a cross-field check (postgres
upsert without key_columns) and sizes as a type."""
import http.server
import json
import os
import re
import signal
import subprocess
import threading
import unittest

from harness import TempDirTest, process, run, wait_for


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        body = b"Hello inline World" if self.path == "/hello" else b"gone"
        self.send_response(200 if self.path == "/hello" else 410)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.shutdown()
        self.server_close()


SINK = '[[sinks]]\ntype = "file"\ntopic = "checks"\npath = "{out}"\nfsync = false\n'

BAD_REGEX = """[[sources]]
type = "http_checker"
topic = "checks"
targets = [
  { url = "http://127.0.0.1:1/a", regex = "fine" },
  { url = "http://127.0.0.1:1/b", regex = "broken(" },
]
"""

GOOD = """[[sources]]
name = "checker"
type = "http_checker"
topic = "checks"
interval = "1s"
log_every = "0s"
targets = [{{ name = "hello", url = "http://127.0.0.1:{port}/hello", regex = "inline\\\\s+World" }}]

[[sources]]
name = "checker2"
type = "http_checker"
topic = "checks"
interval = "1s"
log_every = "0s"

[[sources.targets]]
name = "gone"
url = "http://127.0.0.1:{port}/gone"
expect_status = [200, "400-410"]
"""


def records(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f.read().split("\n")[:-1] if line.strip()]


class InlineTargets(TempDirTest):
    def test_bad_inline_regex_is_reported_at_its_own_line_and_column(self):
        path = self.write("p.toml", BAD_REGEX + SINK.format(out=os.path.join(self.dir, "out.jsonl")))
        proc = run("check", path)
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertRegex(proc.stderr, re.escape(path) + r":6:43: error: sources\[0\]\.targets\[1\]\.regex: "
                                      r"invalid regex: missing closing parenthesis")
        self.assertNotIn(path + ":1:1:", proc.stderr)  # not at the [[sources]] line
        self.assertNotIn("targets[0]", proc.stderr)

    def test_unknown_inline_key_has_did_you_mean(self):
        text = BAD_REGEX.replace('regex = "broken("', 'regx = "ok"') + SINK.format(out="/tmp/unused")
        proc = run("check", self.write("p.toml", text))
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertRegex(proc.stderr, r":6:35: error: sources\[0\]\.targets\[1\]\.regx: unknown key "
                                      r"\(did you mean `regex`\?\)")

    def test_good_inline_targets_are_checked(self):
        server = Server()
        self.addCleanup(server.close)
        out = os.path.join(self.dir, "out.jsonl")
        path = self.write("p.toml", GOOD.format(port=server.server_address[1]) + SINK.format(out=out))
        run("check", path, check=0)
        with process("run", path, "--progress", "0s", stdout=subprocess.DEVNULL) as p:
            wait_for(lambda: {"hello", "gone"} <= {r["target"] for r in records(out)}, timeout=90,
                     what="a record of each inline target")
            p.signal(signal.SIGTERM)
            self.assertEqual(p.wait(timeout=30), 0, p.stderr_text())
        first = {}
        for r in records(out):
            first.setdefault(r["target"], r)
        self.assertEqual(first["hello"]["status"], 200)
        self.assertEqual(first["hello"]["regex_matched"], True, first["hello"])
        self.assertEqual(first["gone"]["status"], 410)
        self.assertIsNone(first["gone"]["error"], first["gone"])  # 410 is in its own expect_status


class CrossFieldAndSizes(TempDirTest):
    SOURCE = '[[sources]]\ntype = "random_routes"\ntopic = "routes"\ncount = 1\n'

    def test_upsert_without_key_columns_fails_check_at_mode(self):
        text = self.SOURCE + ('[[sinks]]\ntype = "postgres"\ntopic = "routes"\n'
                              'conninfo = "host=127.0.0.1 port=1 dbname=x"\ntable = "t"\nmode = "upsert"\n')
        path = self.write("p.toml", text)
        proc = run("check", path)
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn(path + ':10:1: error: sinks[0].mode: mode = "upsert" needs key_columns', proc.stderr)

    def test_size_accepts_units_and_refuses_an_unknown_one_at_its_position(self):
        sink = '[[sinks]]\ntype = "stdout"\ntopic = "routes"\ntransform_memory = "{}"\n'
        run("check", self.write("good.toml", self.SOURCE + sink.format("64MB")), check=0)
        run("check", self.write("spaced.toml", self.SOURCE + sink.format("1 MiB")), check=0)
        path = self.write("bad.toml", self.SOURCE + sink.format("64XB"))
        proc = run("check", path)
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn(path + ":8:20: error: sinks[0].transform_memory: `64XB` is not a size", proc.stderr)


if __name__ == "__main__":
    unittest.main()
