"""The `lua` source: a script polls a local HTTP server with sluice.http and
emits records; ctx.state survives restarts (and SIGKILL, without loss); a
script that loops, raises or overruns is logged at file:line and the source
goes on; secrets never show."""
import http.server
import json
import os
import re
import signal
import ssl
import subprocess
import threading
import time
import unittest
from urllib.parse import parse_qs, urlparse

from harness import TempDirTest, broker, process, read_json_lines, read_topic, run, wait_for

SECRET = "s3cr3t-Token-9f8e7d"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urlparse(self.path)
        query = parse_qs(url.query)
        server = self.server
        with server.lock:
            server.seen.append((url.path, query, self.headers.get("Authorization")))
        if url.path == "/items":
            # Items after `after`, `page` at a time, up to server.total.
            after = int(query.get("after", ["0"])[0])
            if server.page_delay:
                time.sleep(server.page_delay)
            items = list(range(after + 1, min(after + server.page, server.total) + 1))
            self.reply(200, json.dumps(items).encode(), [("Content-Type", "application/json"),
                                                         ("X-Items-Left", str(server.total - after))])
        elif url.path == "/mode":
            with server.lock:
                mode = server.modes.pop(0) if server.modes else "emit"
            self.reply(200, mode.encode())
        elif url.path == "/slow":
            server.release.wait(10)
            self.reply(200, b"late")
        elif url.path == "/big":
            self.reply(200, b"x" * 100_000)
        elif url.path == "/status":
            self.reply(503, b"busy", [("Retry-After", "1")])
        else:
            self.reply(404, b"")


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, total=20, page=5, page_delay=0.0, modes=(), tls=None):
        super().__init__(("127.0.0.1", 0), Handler)
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.socket = context.wrap_socket(self.socket, server_side=True)
        self.scheme = "https" if tls else "http"
        self.lock = threading.Lock()
        self.seen = []
        self.total, self.page, self.page_delay = total, page, page_delay
        self.modes = list(modes)
        self.release = threading.Event()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    def handle_error(self, request, client_address):
        pass

    @property
    def base(self):
        return f"{self.scheme}://127.0.0.1:{self.server_address[1]}"

    def requests(self, path):
        with self.lock:
            return [s for s in self.seen if s[0] == path]

    def close(self):
        self.release.set()
        self.shutdown()
        self.server_close()


# Pages through /items from ctx.state.after, saving progress after every page.
PAGING_SCRIPT = """
function poll(ctx)
  local after = ctx.state.after or 0
  while true do
    local r, err = sluice.http.get(ctx.params.base .. "/items?after=" .. after,
                                   {headers = {Authorization = "Bearer " .. ctx.secrets.token}})
    if not r then error("request failed: " .. err) end
    local items = sluice.json.decode(r.body)
    if #items == 0 then return end
    for _, id in ipairs(items) do ctx.emit({id = id, left = tonumber(r.headers["x-items-left"])}, tostring(id)) end
    after = items[#items]
    ctx.state.after = after
    if not ctx.checkpoint() then return end
  end
end
"""

PIPELINE = """
name = "luasrc"
[kafka]
bootstrap_servers = "{bootstrap}"
compression = "none"  # kafka-python reads it without extra libraries
[[sources]]
name = "items"
type = "lua"
topic = "items"
script = "script.lua"
interval = "{interval}"
state_dir = "state"
http_timeout = "5s"
http_max_bytes = "{max_bytes}"
instructions = {instructions}
memory = "{memory}"
{extra}
[sources.params]
base = "{base}"
[sources.secrets]
token = "{secret}"
[[sinks]]
type = "file"
topic = "items"
path = "{out}"
fsync = false
"""


class LuaSourceTest(TempDirTest):
    def setUp(self):
        super().setUp()
        self.server = None

    def tearDown(self):
        if self.server:
            self.server.close()
        super().tearDown()

    def pipeline(self, script, bootstrap="embedded", interval="1h", max_bytes="16MB", instructions=100000000,
                 memory="64MB", extra=""):
        self.write("script.lua", script)
        return self.write("pipeline.toml", PIPELINE.format(
            bootstrap=bootstrap, interval=interval, base=self.server.base, secret=SECRET, max_bytes=max_bytes,
            instructions=instructions, memory=memory, extra=extra, out=os.path.join(self.dir, "out.jsonl")))

    @property
    def state_path(self):
        return os.path.join(self.dir, "state", "items.state.json")

    def state(self):
        try:
            with open(self.state_path) as f:
                return json.load(f)
        except (FileNotFoundError, json.JSONDecodeError):
            return {}

    def out(self):
        path = os.path.join(self.dir, "out.jsonl")
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [json.loads(line) for line in f.read().split("\n")[:-1] if line.strip()]

    def test_records_arrive_and_the_state_survives_a_clean_restart(self):
        self.server = Server(total=20, page=5)
        path = self.pipeline(PAGING_SCRIPT)
        with process("run", path, "--progress", "0s") as p:
            wait_for(lambda: len(self.out()) == 20, what="20 records in the file sink")
            wait_for(lambda: self.state().get("after") == 20, what="the state saved")
            p.signal(signal.SIGTERM)
            self.assertEqual(p.wait(60), 0, p.stderr_text())
            log = p.stderr_text()
        self.assertEqual(sorted(r["id"] for r in self.out()), list(range(1, 21)))
        self.assertEqual(self.out()[0]["left"], 20)  # a response header, read by its lower-cased name
        self.assertTrue(all(auth == "Bearer " + SECRET for _, _, auth in self.server.requests("/items")))
        self.assertNotIn(SECRET, log)
        mode = os.stat(os.path.join(self.dir, "state")).st_mode & 0o777
        self.assertEqual(mode, 0o700)
        # A clean restart resumes from the saved state: it asks for what comes after 20, emits nothing again.
        asked = len(self.server.requests("/items"))
        with process("run", path, "--progress", "0s") as p:
            wait_for(lambda: any(q.get("after") == ["20"] for _, q, _ in self.server.requests("/items")[asked:]),
                     what="the restarted source polling after 20")
            p.signal(signal.SIGTERM)
            self.assertEqual(p.wait(60), 0, p.stderr_text())
        self.assertEqual(len(self.out()), 20)
        self.assertEqual(self.state(), {"after": 20})

    def test_sigkill_mid_run_then_restart_loses_nothing(self):
        total = 600
        self.server = Server(total=total, page=10, page_delay=0.01)
        with broker("items") as address:
            path = self.pipeline(PAGING_SCRIPT, bootstrap=address)
            with process("run", path, "--only", "sources", "--progress", "0s") as p:
                wait_for(lambda: self.state().get("after", 0) >= 150, what="the state past 150")
                p.signal(signal.SIGKILL)
                p.wait(30)
            saved = self.state()["after"]
            self.assertLess(saved, total, "the kill came too late to test anything")
            with process("run", path, "--only", "sources", "--progress", "0s") as p:
                wait_for(lambda: self.state().get("after") == total, timeout=120, what="the state at the end")
                p.signal(signal.SIGTERM)
                self.assertEqual(p.wait(60), 0, p.stderr_text())
            ids = [json.loads(m.value)["id"] for m in read_topic(address, "items", 1)]
        self.assertEqual(set(ids), set(range(1, total + 1)), "a record was lost")
        # At least once: what is emitted twice is what came after the last saved state, at most a few pages.
        self.assertLessEqual(len(ids) - total, 100)
        self.assertTrue(all(i > saved for i in ids if ids.count(i) > 1))

    def test_a_runaway_loop_a_raised_error_and_a_memory_overrun_are_logged_and_the_source_goes_on(self):
        self.server = Server(modes=["loop", "raise", "memory", "emit"])
        script = """
function poll(ctx)
  local r = assert(sluice.http.get(ctx.params.base .. "/mode"))
  if r.body == "loop" then
    while true do end
  elseif r.body == "raise" then
    error("boom with " .. ctx.secrets.token)
  elseif r.body == "memory" then
    local t = {}
    for i = 1, 1e9 do t[i] = {i} end
  end
  ctx.emit({mode = r.body, round = #ctx.state + 1})
end
"""
        path = self.pipeline(script, interval="100ms", instructions=200000, memory="1MB")
        with process("run", path, "--progress", "0s") as p:
            wait_for(lambda: len(self.out()) >= 2, what="records after the failures")
            p.signal(signal.SIGTERM)
            p.wait(60)
            log = p.stderr_text()
        self.assertRegex(log, r"script\.lua:5: instruction budget exceeded")
        self.assertRegex(log, r"script\.lua:7: boom with \*\*\*")
        # Lua raises out-of-memory where it allocates, with no position to name.
        self.assertRegex(log, r"poll\(\) failed \(3 of 3 rounds so far\): memory limit exceeded \(1 MB")
        self.assertIn("Lua state was made again", log)
        self.assertRegex(log, r"poll\(\) failed \(1 of 1 rounds")
        self.assertNotIn(SECRET, log)
        self.assertEqual(self.out()[0]["mode"], "emit")

    def test_http_timeout_size_cap_and_refused_scheme_give_nil_and_an_error(self):
        self.server = Server()
        script = """
function poll(ctx)
  local r, err = sluice.http.get(ctx.params.base .. "/slow", {timeout = 0.5})
  ctx.emit({what = "slow", ok = r ~= nil, err = err})
  r, err = sluice.http.get(ctx.params.base .. "/big")
  ctx.emit({what = "big", ok = r ~= nil, err = err})
  r, err = sluice.http.get("file:///etc/passwd")
  ctx.emit({what = "file", ok = r ~= nil, err = err})
  r, err = sluice.http.get(ctx.params.base .. "/status")
  ctx.emit({what = "status", status = r.status, retry = r.headers["retry-after"], body = r.body})
  r, err = sluice.http.post(ctx.params.base .. "/nothing", {body = "{}"})
  ctx.emit({what = "post", status = r and r.status, err = err})
end
"""
        path = self.pipeline(script, max_bytes="10KB")
        with process("run", path, "--progress", "0s") as p:
            wait_for(lambda: len(self.out()) == 5, what="five records")
            p.signal(signal.SIGTERM)
            p.wait(60)
        got = {r["what"]: r for r in self.out()}
        self.assertFalse(got["slow"]["ok"])
        self.assertIn("timed out", got["slow"]["err"])
        self.assertFalse(got["big"]["ok"])
        self.assertIn("larger than http_max_bytes", got["big"]["err"])
        self.assertIn("only http and https", got["file"]["err"])
        self.assertEqual((got["status"]["status"], got["status"]["retry"], got["status"]["body"]), (503, "1", "busy"))
        self.assertIn("status", got["post"])  # a POST the server does not handle: 501, a response, not an error
        self.assertEqual(got["post"]["status"], 501)

    def test_check_masks_secrets_and_reports_a_bad_script_and_a_bad_option(self):
        self.server = Server()
        path = self.pipeline(PAGING_SCRIPT)
        printed = run("check", "--print", path, check=0)
        self.assertNotIn(SECRET, printed.stdout + printed.stderr)
        self.assertIn("secrets", printed.stdout)
        self.write("script.lua", "function poll(ctx)\n  local x = \n  ctx.emit(x\nend\n")
        bad = run("check", path, check=2)
        self.assertRegex(bad.stderr, r"pipeline\.toml:\d+:\d+: .*script\.lua:4:", bad.stderr)
        self.write("script.lua", "local x = 1\n")
        bad = run("check", path, check=2)
        self.assertIn("defines neither poll(ctx) nor run(ctx)", bad.stderr)
        self.pipeline(PAGING_SCRIPT)
        with open(path) as f:
            text = f.read().replace('interval = "1h"', 'interval = "soon"')
        with open(path, "w") as f:
            f.write(text)
        line = text.split("\n").index('interval = "soon"') + 1
        bad = run("check", path, check=2)
        self.assertRegex(bad.stderr, rf"pipeline\.toml:{line}:12: .*interval")

    def test_a_corrupt_state_file_stops_the_start_naming_it(self):
        self.server = Server()
        path = self.pipeline(PAGING_SCRIPT)
        os.makedirs(os.path.join(self.dir, "state"))
        with open(self.state_path, "w") as f:
            f.write('{"after": 3')
        proc = run("run", path, "--progress", "0s", timeout=60)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("items.state.json", proc.stderr)
        self.assertIn("not valid JSON", proc.stderr)
        self.assertEqual(self.server.requests("/items"), [])

    def test_run_mode_loops_until_stopping_and_checkpoints(self):
        self.server = Server()
        script = """
function run(ctx)
  local n = ctx.state.n or 0
  while not ctx.stopping() do
    n = n + 1
    ctx.emit({n = n})
    ctx.state.n = n
    ctx.checkpoint()
    for i = 1, 100000 do end   -- each slice has its own instruction budget
    if not ctx.sleep(0.05) then break end
  end
end
"""
        path = self.pipeline(script, instructions=300000)
        with process("run", path, "--progress", "0s") as p:
            wait_for(lambda: self.state().get("n", 0) >= 5, what="five checkpoints")
            p.signal(signal.SIGTERM)
            self.assertEqual(p.wait(60), 0, p.stderr_text())
            log = p.stderr_text()
        self.assertNotIn("budget exceeded", log)
        self.assertEqual([r["n"] for r in self.out()][:5], [1, 2, 3, 4, 5])

    def test_a_stop_during_a_slow_request_ends_it_promptly_and_cleanly(self):
        self.server = Server()
        script = """
function poll(ctx)
  local r, err = sluice.http.get(ctx.params.base .. "/slow", {timeout = 60})
  sluice.log.warn("slow request: " .. tostring(err))
end
"""
        path = self.pipeline(script)
        with process("run", path, "--progress", "0s") as p:
            wait_for(lambda: self.server.requests("/slow"), what="the slow request")
            p.signal(signal.SIGTERM)
            # The server answers after 10 s: the request must end well before, at the stop.
            self.assertEqual(p.wait(8), 0, p.stderr_text())
            log = p.stderr_text()
        self.assertIn("slow request: stopped", log)

    def test_tls_is_verified_and_ca_file_trusts_a_private_certificate(self):
        cert, key = os.path.join(self.dir, "cert.pem"), os.path.join(self.dir, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                       check=True, capture_output=True)
        self.server = Server(tls=(cert, key))
        script = """
function poll(ctx)
  local r, err = sluice.http.get(ctx.params.base .. "/items?after=0")
  ctx.emit({ok = r ~= nil, status = r and r.status, err = err})
end
"""
        for extra, ok in (("", False), (f'ca_file = "{cert}"', True)):
            if os.path.exists(os.path.join(self.dir, "out.jsonl")):
                os.remove(os.path.join(self.dir, "out.jsonl"))
            path = self.pipeline(script, extra=extra)
            with process("run", path, "--progress", "0s") as p:
                wait_for(lambda: self.out(), what="the record of the request")
                p.signal(signal.SIGTERM)
                p.wait(60)
            record = self.out()[0]
            self.assertEqual(record["ok"], ok, record)
            if ok:
                self.assertEqual(record["status"], 200)
            else:
                self.assertIn("certificate", record["err"])


if __name__ == "__main__":
    unittest.main()
