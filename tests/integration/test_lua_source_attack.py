"""Hostile scripts and servers against the `lua` source: a run() that ignores
the stop, hostile HTTP answers (a trickle, an endless body, redirects out of
http, a huge header), header injection, credentials and secrets in errors, a
stop during a long ctx.sleep, a second process on one state file, and SIGKILL
again and again driven by progress (nothing lost)."""
import http.server
import json
import os
import signal
import threading
import time
import unittest

from harness import TempDirTest, broker, process, read_topic, run, wait_for

SECRET = "s3cr3t-Attack-77aa"
PASSWORD = "pw-In-Url-4242"


class HostileHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def empty(self, status, headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        server = self.server
        with server.lock:
            server.seen.append(self.path)
        try:
            if self.path == "/trickle":  # one byte a second, for longer than any timeout of the tests
                self.send_response(200)
                self.send_header("Content-Length", "1000")
                self.end_headers()
                for _ in range(1000):
                    if server.closing.wait(1):
                        return
                    self.wfile.write(b"x")
                    self.wfile.flush()
            elif self.path == "/endless":  # a chunked body that never ends
                self.send_response(200)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                while not server.closing.is_set():
                    self.wfile.write(b"1000\r\n" + b"y" * 4096 + b"\r\n")
            elif self.path == "/to-file":
                self.empty(302, [("Location", "file:///etc/passwd")])
            elif self.path == "/loop":
                self.empty(302, [("Location", "/loop")])
            elif self.path == "/huge-header":
                self.empty(200, [("X-Huge", "h" * 2_000_000)])
            else:
                body = json.dumps({k.lower(): v for k, v in self.headers.items()}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


class HostileServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), HostileHandler)
        self.lock = threading.Lock()
        self.seen = []
        self.closing = threading.Event()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    def handle_error(self, request, client_address):
        pass

    @property
    def base(self):
        return f"http://127.0.0.1:{self.server_address[1]}"

    def close(self):
        self.closing.set()
        self.shutdown()
        self.server_close()


PIPELINE = """
name = "{name}"
[kafka]
bootstrap_servers = "{bootstrap}"
compression = "none"
[[sources]]
name = "items"
type = "lua"
topic = "items"
script = "script.lua"
interval = "{interval}"
state_dir = "state"
http_timeout = "5s"
http_max_bytes = "64KB"
instructions = {instructions}
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


class LuaSourceAttackTest(TempDirTest):
    def setUp(self):
        super().setUp()
        self.server = HostileServer()

    def tearDown(self):
        self.server.close()
        super().tearDown()

    def pipeline(self, script, name="attack", bootstrap="embedded", interval="1h", instructions=100000000,
                 file="pipeline.toml", out="out.jsonl"):
        self.write("script.lua", script)
        return self.write(file, PIPELINE.format(
            name=name, bootstrap=bootstrap, interval=interval, instructions=instructions, base=self.server.base,
            secret=SECRET, out=os.path.join(self.dir, out)))

    def out(self, name="out.jsonl"):
        path = os.path.join(self.dir, name)
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [json.loads(line) for line in f.read().split("\n")[:-1] if line.strip()]

    def state(self):
        try:
            with open(os.path.join(self.dir, "state", "items.state.json")) as f:
                return json.load(f)
        except (FileNotFoundError, json.JSONDecodeError):
            return {}

    def stop_promptly(self, p, seconds=10):
        """SIGTERM, then the exit code, which must come within `seconds`."""
        p.signal(signal.SIGTERM)
        started = time.monotonic()
        code = p.wait(seconds + 30)
        self.assertLess(time.monotonic() - started, seconds, "the stop took too long: " + p.stderr_text()[-2000:])
        return code

    def test_sigterm_ends_a_run_that_ignores_the_false_of_sleep_and_checkpoint(self):
        # run()'s budget is renewed at every wait; after a stop each wait returns at once, so with a
        # budget this large the loop used to spin for good and SIGTERM never ended the pipeline.
        script = """
function run(ctx)
  ctx.emit({started = true})
  ctx.checkpoint()
  while true do ctx.sleep(0.2); ctx.checkpoint() end
end
"""
        path = self.pipeline(script, instructions=1000000000000)
        with process("run", path, "--progress", "0s") as p:
            wait_for(lambda: self.out(), what="the record run() emits first")
            self.assertEqual(self.stop_promptly(p), 0, p.stderr_text())
            self.assertIn("run() ended by the stop", p.stderr_text())

    def test_sigterm_during_a_very_long_ctx_sleep_ends_promptly(self):
        script = """
function poll(ctx)
  ctx.emit({sleeping = true})
  ctx.checkpoint()
  local slept = ctx.sleep(1e9)
  sluice.log.warn("sleep returned " .. tostring(slept))
end
"""
        path = self.pipeline(script)
        with process("run", path, "--progress", "0s") as p:
            wait_for(lambda: self.out(), what="the record before the sleep")
            self.assertEqual(self.stop_promptly(p), 0, p.stderr_text())
            self.assertIn("sleep returned false", p.stderr_text())

    def test_hostile_http_answers_are_errors_never_hangs_or_crashes(self):
        script = """
function poll(ctx)
  local function try(name, url, opts)
    local ok, r, err = pcall(sluice.http.get, url, opts)
    if not ok then ctx.emit({name = name, raised = r}) return end
    ctx.emit({name = name, status = r and r.status, err = err})
  end
  local base = ctx.params.base
  try("trickle", base .. "/trickle", {timeout = 1})
  try("endless", base .. "/endless", {timeout = 60})
  try("to-file", base .. "/to-file")
  try("loop", base .. "/loop")
  try("huge-header", base .. "/huge-header")
  try("name-injection", base .. "/echo", {headers = {["X-A\\r\\nX-Injected"] = "1"}})
  try("value-injection", base .. "/echo", {headers = {["X-A"] = "1\\r\\nX-Injected: 1"}})
  try("after", base .. "/echo")
end
"""
        path = self.pipeline(script)
        with process("run", path, "--progress", "0s") as p:
            wait_for(lambda: any(r["name"] == "after" for r in self.out()), timeout=90, what="every request tried")
            self.assertEqual(self.stop_promptly(p), 0, p.stderr_text())
        got = {r["name"]: r for r in self.out()}
        self.assertIn("timed out after 1000 ms", got["trickle"]["err"])
        self.assertIn("larger than http_max_bytes", got["endless"]["err"])
        self.assertIsNone(got["to-file"].get("status"))  # the redirect out of http is not followed
        self.assertIn("file", got["to-file"]["err"])
        self.assertIn("redirects", got["loop"]["err"])
        self.assertIsNone(got["huge-header"].get("status"))
        self.assertIn("not a header name", got["name-injection"]["raised"])
        self.assertIn("line break", got["value-injection"]["raised"])
        self.assertEqual(got["after"]["status"], 200)  # the client is still usable

    def test_secrets_and_url_passwords_never_show_in_logs_or_errors(self):
        script = f"""
function poll(ctx)
  local url = "http://" .. ctx.secrets.token .. ".invalid/"
  local r, err = sluice.http.get(url, {{timeout = 5}})
  sluice.log.warn("fetching " .. url .. " failed: " .. tostring(err))
  r, err = sluice.http.get("http://user:{PASSWORD}@127.0.0.1:1/", {{timeout = 5}})
  ctx.emit({{err = err}})
  sluice.log.warn("with a password: " .. tostring(err))
  ctx.checkpoint()
  error({{ctx.secrets.token}})   -- an error object that is a table
end
"""
        path = self.pipeline(script, interval="100ms")
        with process("run", path, "--progress", "0s") as p:
            wait_for(lambda: len(self.out()) >= 2, what="two rounds")
            self.assertEqual(self.stop_promptly(p), 0, p.stderr_text())
            log = p.stderr_text()
        self.assertIn("fetching http://***.invalid/ failed", log)
        self.assertNotIn(SECRET, log)
        self.assertNotIn(PASSWORD, log)
        self.assertNotIn(PASSWORD, json.dumps(self.out()))
        self.assertIn("error object is a table", log)
        printed = run("check", "--print", path, check=0)
        self.assertNotIn(SECRET, printed.stdout + printed.stderr)

    def test_the_top_level_makes_no_requests_in_run_as_in_check(self):
        # It used to make them in `run` only: a script could pass one and fail the other, and a slow
        # server held up the start (and its stop) for up to the request's timeout.
        script = """
local r, top_err = sluice.http.get("{base}/trickle", {timeout = 3600})
function poll(ctx)
  ctx.emit({top_err = top_err})
end
""".replace("{base}", self.server.base)
        path = self.pipeline(script)
        run("check", path, check=0)
        with process("run", path, "--progress", "0s") as p:
            wait_for(lambda: self.out(), what="the first poll's record")
            self.assertEqual(self.stop_promptly(p), 0, p.stderr_text())
        self.assertIn("no requests at the script's top level", self.out()[0]["top_err"])
        self.assertNotIn("/trickle", self.server.seen)

    def test_an_interval_under_100ms_is_refused_at_its_line(self):
        # interval = "0s" used to be taken: a failing poll() then spun at full speed, ~100,000 log lines a second.
        path = self.pipeline("function poll(ctx) error('always') end", interval="0s")
        with open(path) as f:
            line = f.read().split("\n").index('interval = "0s"') + 1
        bad = run("check", path, check=2)
        self.assertRegex(bad.stderr, rf"pipeline\.toml:{line}:12: .*interval: must be at least 100")
        self.pipeline("function poll(ctx) error('always') end", interval="100ms")
        run("check", path, check=0)

    def test_a_record_kafka_refuses_ends_the_pipeline_naming_its_size(self):
        # Kafka's message.max.bytes (1 MB here) refuses it for good: the pipeline stops (exit 1) rather than
        # losing it, and says which record it was.
        path = self.pipeline('function poll(ctx) ctx.emit(string.rep("x", 3 * 1024 * 1024)) end')
        proc = run("run", path, "--progress", "0s", timeout=60)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn("ctx.emit of a 3145728-byte record", proc.stderr)
        self.assertIn("too large", proc.stderr)
        self.assertEqual(self.out(), [])

    def test_a_second_process_on_the_same_state_file_is_refused_at_its_start(self):
        script = """
function poll(ctx)
  ctx.state.n = (ctx.state.n or 0) + 1
  ctx.emit({n = ctx.state.n})
end
"""
        path = self.pipeline(script)
        twin = self.pipeline(script, file="twin.toml", out="twin.jsonl")
        with process("run", path, "--progress", "0s") as p:
            wait_for(lambda: self.state().get("n") == 1, what="the first process's state")
            second = run("run", twin, "--progress", "0s", timeout=60)
            self.assertNotEqual(second.returncode, 0)
            self.assertIn("in use by another running source", second.stderr)
            self.assertEqual(self.out("twin.jsonl"), [])
            self.assertEqual(self.stop_promptly(p), 0, p.stderr_text())
        # Once the first is gone the same pipeline starts again on its state.
        with process("run", twin, "--progress", "0s") as p:
            wait_for(lambda: self.state().get("n") == 2, what="the state carried on")
            self.assertEqual(self.stop_promptly(p), 0, p.stderr_text())

    def test_sigkill_again_and_again_driven_by_progress_loses_nothing(self):
        total = 300
        script = f"""
function poll(ctx)
  local after = ctx.state.after or 0
  while after < {total} do
    for id = after + 1, after + 10 do ctx.emit({{id = id}}, tostring(id)) end
    after = after + 10
    ctx.state.after = after
    if not ctx.checkpoint() then return end
    if not ctx.sleep(0.01) then return end
  end
end
"""
        with broker("items") as address:
            path = self.pipeline(script, bootstrap=address)
            for threshold in (40, 100, 160, 220):
                with process("run", path, "--only", "sources", "--progress", "0s") as p:
                    wait_for(lambda: self.state().get("after", 0) >= threshold, what=f"the state past {threshold}")
                    p.signal(signal.SIGKILL)
                    p.wait(30)
                self.assertLess(self.state()["after"], total, "the kill came too late to test anything")
            with process("run", path, "--only", "sources", "--progress", "0s") as p:
                wait_for(lambda: self.state().get("after") == total, timeout=120, what="the state at the end")
                self.assertEqual(self.stop_promptly(p), 0, p.stderr_text())
            ids = [json.loads(m.value)["id"] for m in read_topic(address, "items", 1)]
        self.assertEqual(set(ids), set(range(1, total + 1)), "a record was lost")


if __name__ == "__main__":
    unittest.main()
