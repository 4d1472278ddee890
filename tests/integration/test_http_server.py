"""The HTTP server of `sluice run`: where it listens ([http] listen, enabled,
allow_remote, a port in use), what /health, /ready and /api/status answer,
that no endpoint shows a secret, and that a stop is not held up by a client."""
import errno
import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

from harness import TempDirTest, broker, process, run, wait_for
from pg import Postgres, free_port

SERVING = re.compile(r"http: serving /metrics, /health, /ready and the status page on http://([^/\s]+)/")

ROUTES = """
name = "{name}"
[kafka]
bootstrap_servers = "${{KAFKA_BOOTSTRAP:-embedded}}"
librdkafka = {{ "session.timeout.ms" = 6000 }}
{http}
[[sources]]
name = "routes"
type = "random_routes"
topic = "routes"
rate = 200
[[sinks]]
name = "out"
type = "file"
topic = "routes"
path = "{out}"
fsync = false
"""


def get(address, path, timeout=10):
    """(status, body as text) of GET http://address/path; a 4xx/5xx is an answer too."""
    try:
        with urllib.request.urlopen(f"http://{address}{path}", timeout=timeout) as r:
            return r.status, r.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8")


def serving_address(p, timeout=60):
    """The address the run logged it serves on."""
    match = wait_for(lambda: SERVING.search(p.stderr_text()), timeout=timeout, what="the http serving line")
    return match.group(1)


def listening_ports(pid):
    """TCP ports the process `pid` listens on (from /proc: its socket inodes in LISTEN state)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and fields[9] in inodes:
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def held_port(port=None):
    """A listening socket on 127.0.0.1 (port 0: any), or None when the port is taken already."""
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port or 0))
    except OSError as e:
        s.close()
        if e.errno == errno.EADDRINUSE:
            return None
        raise
    s.listen()
    return s


class HttpServerTest(TempDirTest):
    def pipeline(self, http="", name="web"):
        self.out = os.path.join(self.dir, "out.jsonl")
        return self.write("p.toml", ROUTES.format(name=name, http=http, out=self.out))

    def records_flow(self):
        wait_for(lambda: os.path.exists(self.out) and os.path.getsize(self.out) > 1000, timeout=120,
                 what="records in the file sink")

    def test_default_port_in_use_warns_and_serves_on_another_port(self):
        # Held here, so it stays taken until the test ends (another run on this
        # host may hold it for a moment: then wait for it).
        holder = wait_for(lambda: held_port(9464), timeout=120, what="port 9464 to hold")
        try:
            with process("run", self.pipeline(), "--progress", "0s") as p:
                address = serving_address(p)
                self.assertNotEqual(address, "127.0.0.1:9464")
                self.assertIn("http: 127.0.0.1:9464 is in use", p.stderr_text())
                self.assertRegex(p.stderr_text(), r"warning.*http: 127\.0\.0\.1:9464 is in use")
                status, body = get(address, "/metrics")
                self.assertEqual(status, 200)
                self.assertIn('sluice_build_info{pipeline="web",version="', body)
        finally:
            holder.close()

    def test_only_sources_and_only_sinks_side_by_side_both_serve(self):
        path = self.pipeline()
        with broker("routes:1") as bootstrap:
            env = {"KAFKA_BOOTSTRAP": bootstrap}
            with process("run", path, "--only", "sinks", "--progress", "0s", env=env) as sinks, \
                    process("run", path, "--only", "sources", "--progress", "0s", env=env) as sources:
                a, b = serving_address(sinks), serving_address(sources)
                self.assertNotEqual(a, b, "two processes must not share one port")
                self.records_flow()
                for address, step in ((a, "out"), (b, "routes")):
                    status, body = get(address, "/api/status")
                    self.assertEqual(status, 200)
                    self.assertEqual([s["name"] for s in json.loads(body)["steps"]], [step])

    def test_explicit_listen_in_use_is_a_start_up_error_naming_the_address(self):
        holder = held_port()
        try:
            port = holder.getsockname()[1]
            started = time.monotonic()
            proc = run("run", self.pipeline(f'[http]\nlisten = "127.0.0.1:{port}"'), timeout=60)
            self.assertEqual(proc.returncode, 2, proc.stderr)
            self.assertIn(f"cannot listen on 127.0.0.1:{port}", proc.stderr)
            self.assertIn("Address already in use", proc.stderr)
            # It fails before anything started: no record was produced.
            self.assertFalse(os.path.exists(self.out) and os.path.getsize(self.out) > 0)
            self.assertLess(time.monotonic() - started, 30)
        finally:
            holder.close()

    def test_a_second_sluice_on_the_same_explicit_port_is_refused(self):
        # httplib's own socket options would let two servers share a port (SO_REUSEPORT).
        port = free_port()
        http = f'[http]\nlisten = "127.0.0.1:{port}"'
        with process("run", self.pipeline(http), "--progress", "0s") as first:
            self.assertEqual(serving_address(first), f"127.0.0.1:{port}")
            other = os.path.join(self.dir, "other")
            os.mkdir(other)
            second = os.path.join(other, "p.toml")
            with open(second, "w") as f:
                f.write(ROUTES.format(name="web2", http=http, out=os.path.join(other, "out.jsonl")))
            proc = run("run", second, timeout=60)
            self.assertEqual(proc.returncode, 2, proc.stderr)
            self.assertIn(f"cannot listen on 127.0.0.1:{port}", proc.stderr)

    def test_off_when_listen_is_empty_or_enabled_is_false(self):
        for http in ('[http]\nlisten = ""', "[http]\nenabled = false"):
            with self.subTest(http=http):
                path = self.pipeline(http)
                # On a separate broker, so neither process listens on anything but its HTTP server.
                with broker("routes:1") as bootstrap:
                    env = {"KAFKA_BOOTSTRAP": bootstrap}
                    with process("run", path, "--only", "sinks", "--progress", "0s", env=env) as sinks, \
                            process("run", path, "--only", "sources", "--progress", "0s", env=env) as sources:
                        self.records_flow()  # both are well past their start
                        for p in (sinks, sources):
                            self.assertEqual(listening_ports(p.proc.pid), set())
                            self.assertNotRegex(p.stderr_text(), SERVING)
                os.remove(self.out)

    def test_port_0_takes_any_free_port_and_logs_it(self):
        with process("run", self.pipeline('[http]\nlisten = "127.0.0.1:0"'), "--progress", "0s") as p:
            address = serving_address(p)
            self.assertNotEqual(address, "127.0.0.1:0")
            self.assertEqual(get(address, "/health")[0], 200)
            self.assertNotIn("in use", p.stderr_text())

    def test_enabled_false_leaves_the_listen_port_free(self):
        port = free_port()
        with process("run", self.pipeline(f'[http]\nenabled = false\nlisten = "127.0.0.1:{port}"'),
                     "--progress", "0s") as p:
            self.records_flow()  # the run is well past start
            with socket.socket() as s:
                self.assertNotEqual(s.connect_ex(("127.0.0.1", port)), 0)
            self.assertNotRegex(p.stderr_text(), SERVING)

    def test_non_loopback_listen_needs_allow_remote(self):
        path = self.pipeline('[http]\nlisten = "0.0.0.0:9464"')
        proc = run("check", "--offline", path)
        self.assertEqual(proc.returncode, 2, proc.stderr)
        # Line 7 of the file, at the value of `listen` (column 10).
        self.assertRegex(proc.stderr, re.escape(path) + r":7:10: error: http\.listen: `0\.0\.0\.0` is not a loopback")
        self.assertIn("allow_remote = true", proc.stderr)
        proc = run("run", path)
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("http.listen", proc.stderr)

    def test_bad_listen_addresses_are_config_errors(self):
        for listen in ("localhost", "127.0.0.1:99999", "127.0.0.1:http", "::1:9464", ":9464"):
            with self.subTest(listen=listen):
                proc = run("check", "--offline", self.pipeline(f'[http]\nlisten = "{listen}"'))
                self.assertEqual(proc.returncode, 2, proc.stderr)
                self.assertRegex(proc.stderr, r"p\.toml:7:10: error: http\.listen: ")

    def test_allow_remote_warns_and_serves(self):
        port = free_port()
        http = f'[http]\nlisten = "0.0.0.0:{port}"\nallow_remote = true'
        with process("run", self.pipeline(http), "--progress", "0s") as p:
            address = serving_address(p)
            self.assertEqual(address, f"0.0.0.0:{port}")
            self.assertRegex(p.stderr_text(), rf"warning.*http: listening on 0\.0\.0\.0:{port}, which other "
                                              "hosts can reach")
            status, body = get(f"127.0.0.1:{port}", "/health")
            self.assertEqual(status, 200, body)

    def test_health_ready_and_status_shapes(self):
        port = free_port()
        with process("run", self.pipeline(f'[http]\nlisten = "127.0.0.1:{port}"', name="shape"),
                     "--progress", "0s") as p:
            address = serving_address(p)
            self.assertEqual(address, f"127.0.0.1:{port}")
            self.records_flow()
            status, body = get(address, "/health")
            self.assertEqual(status, 200, body)
            health = json.loads(body)
            self.assertEqual(health["status"], "ok")
            self.assertEqual([(c["name"], c["kind"]) for c in health["components"]],
                             [("routes", "source"), ("out", "sink")])
            for c in health["components"]:
                self.assertGreaterEqual(c["seconds_since_beat"], 0)

            status, body = get(address, "/ready")
            self.assertIn(status, (200, 503), body)
            ready = json.loads(body)
            self.assertEqual(ready["ready"], status == 200)
            self.assertEqual(ready["ready"], all(c["state"] == "up" for c in ready["components"]))
            for c in ready["components"]:
                self.assertEqual(set(c), {"name", "kind", "state", "ready", "reason"})

            status, body = get(address, "/api/status")
            self.assertEqual(status, 200, body)
            doc = json.loads(body)
            self.assertEqual(doc["pipeline"], "shape")
            self.assertRegex(doc["version"], r"^\d+\.\d+")
            self.assertLessEqual(doc["started_at"], doc["now"])
            self.assertLess(abs(doc["now"] - time.time()), 60)
            self.assertEqual(doc["ready"], ready["ready"] or doc["ready"])  # may change between the two requests
            self.assertEqual([(s["name"], s["kind"]) for s in doc["steps"]], [("routes", "source"), ("out", "sink")])
            keys = {"name", "kind", "type", "topic", "transforms", "state", "reason", "records_in", "records_out",
                    "rejected", "dropped", "bytes_in", "bytes_out", "lag_records", "lag_seconds", "partitions"}
            for step in doc["steps"]:
                self.assertEqual(set(step), keys)
                self.assertEqual(step["topic"], "routes")
                for k in ("records_in", "records_out", "rejected", "dropped", "bytes_in", "bytes_out"):
                    self.assertIsInstance(step[k], int)
            source, sink = doc["steps"]
            self.assertEqual((source["type"], sink["type"]), ("random_routes", "file"))
            self.assertIsNone(source["lag_records"])
            self.assertIsNone(source["lag_seconds"])

            status, body = get(address, "/metrics")
            self.assertEqual(status, 200)
            for name in ("sluice_process_resident_memory_bytes", "sluice_process_cpu_seconds_total",
                         "sluice_process_open_fds", "sluice_process_start_time_seconds"):
                value = re.search(rf'^{name}{{pipeline="shape"}} (\S+)$', body, re.M)
                self.assertTrue(value, name)
                self.assertGreater(float(value.group(1)), 0, name)
            start = float(re.search(r'^sluice_process_start_time_seconds\S* (\S+)$', body, re.M).group(1))
            self.assertLess(abs(start - doc["started_at"]), 60)
            status, _ = get(address, "/no/such/page")
            self.assertEqual(status, 404)

    def test_no_endpoint_shows_a_secret(self):
        pg = Postgres()
        self.addCleanup(pg.close)
        pg.sql("CREATE TABLE checks (url text NOT NULL, status integer)")
        token = self.write("token", "file-secret-Zq81vT")
        port = free_port()
        path = self.write("secret.toml", f"""
name = "secrets"
[http]
listen = "127.0.0.1:{port}"
[[sources]]
name = "checker"
type = "http_checker"
topic = "checks"
interval = "1s"
urls = ["http://127.0.0.1:{port}/health"]
headers = {{ "Authorization" = "Bearer ${{file:{token}}}", "X-Api-Key" = "header-secret-Kp29wX" }}
[[sinks]]
name = "pg"
type = "postgres"
topic = "checks"
conninfo = "host=127.0.0.1 port={pg.port} user=postgres password=conninfo-secret-Hy47sQ dbname=postgres"
table = "checks"
batch_max_wait = "200ms"
""")
        secrets = ("file-secret-Zq81vT", "header-secret-Kp29wX", "conninfo-secret-Hy47sQ")
        with process("run", path, "--progress", "0s") as p:
            address = serving_address(p)
            wait_for(lambda: int(pg.scalar("SELECT count(*) FROM checks")) >= 2, timeout=120,
                     what="checks stored")
            paths = ["/metrics", "/health", "/ready", "/api/status", "/", "/api/rejects?step=pg",
                     "/api/tap?step=checker&limit=2&wait=3", "/api/tap?step=pg&limit=2&wait=3"]
            for path_ in paths:
                status, body = get(address, path_, timeout=30)
                for secret in secrets:
                    self.assertNotIn(secret, body, f"{path_} ({status}) shows a secret")
            # The checker's own checks of /health carried the headers: they reached it, and still none shows.
            status, body = get(address, "/api/status")
            self.assertIn('"name":"checker"', body)

    def test_sigterm_with_a_client_holding_a_request_open_still_ends_quickly(self):
        port = free_port()
        with process("run", self.pipeline(f'[http]\nlisten = "127.0.0.1:{port}"'), "--progress", "0s") as p:
            address = serving_address(p)
            self.records_flow()
            # One client sent half a request, one holds an idle keep-alive connection.
            half = socket.create_connection(("127.0.0.1", port))
            half.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
            idle = socket.create_connection(("127.0.0.1", port))
            idle.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertIn(b"200", idle.recv(4096))
            try:
                started = time.monotonic()
                p.signal(signal.SIGTERM)
                self.assertEqual(p.wait(timeout=60), 0, p.stderr_text())
                self.assertLess(time.monotonic() - started, 8, "the stop waited on the clients")
            finally:
                half.close()
                idle.close()
            self.assertIn("stopped (exit 0)", p.stderr_text())
            with socket.socket() as s:
                self.assertNotEqual(s.connect_ex(("127.0.0.1", port)), 0)
            self.assertTrue(address)

    def test_odd_names_stay_valid_json_and_exposition(self):
        port = free_port()
        path = self.write("odd.toml", f"""
name = "od\\"d\\u0001"
[http]
listen = "127.0.0.1:{port}"
[[sources]]
name = "r\\nou\\"tes\\\\x\\u00e9"
type = "random_routes"
topic = "routes"
rate = 50
[[sinks]]
name = "o\\u0007ut"
type = "file"
topic = "routes"
path = "{os.path.join(self.dir, 'out.jsonl')}"
fsync = false
""")
        with process("run", path, "--progress", "0s") as p:
            address = serving_address(p)
            status, body = get(address, "/api/status")
            self.assertEqual(status, 200)
            doc = json.loads(body)
            self.assertEqual(doc["pipeline"], 'od"d\x01')
            self.assertEqual([s["name"] for s in doc["steps"]], ['r\nou"tes\\x\u00e9', "o\x07ut"])
            for path_ in ("/health", "/ready"):
                json.loads(get(address, path_)[1])
            _, scrape = get(address, "/metrics")
            self.assertIn('step="r\\nou\\"tes\\\\x\u00e9"', scrape)
            lint = subprocess.run(["promtool", "check", "metrics"], input=scrape, capture_output=True, text=True)
            self.assertEqual(lint.returncode, 0, lint.stdout + lint.stderr)

    def test_clients_that_never_finish_a_request_do_not_starve_a_scrape(self):
        port = free_port()
        with process("run", self.pipeline(f'[http]\nlisten = "127.0.0.1:{port}"'), "--progress", "0s") as p:
            address = serving_address(p)
            held = []
            try:
                for _ in range(40):  # more than the server's threads
                    s = socket.create_connection(("127.0.0.1", port))
                    s.sendall(b"GET /metrics HTTP/1.1\r\n")
                    held.append(s)
                # Each held thread gives up on its client after the read timeout (2 s): the scrape gets through.
                status, body = get(address, "/metrics", timeout=30)
                self.assertEqual(status, 200)
                self.assertIn("sluice_build_info", body)
            finally:
                for s in held:
                    s.close()
