"""`sluice check --connect` under attack: servers that hang after the
handshake, send garbage or close the connection, passwords written every way
a user can write them, signals during a check, objects that are not plain
tables, and pipelines with several steps. Each case: one clear FAIL line per
failed check, an exit status that agrees with the lines, a bounded time, no
secret in any output, nothing created."""
import os
import signal
import socket
import struct
import subprocess
import threading
import time

from harness import SLUICE, broker, run
import test_check_connect as base
from test_check_connect import PASSWORD, PIPELINE, TIMEOUT_MS, catalog, lines_of

# What one step may take before the watchdog ends it (4 x timeout + 2 s),
# with slack for a loaded machine; a hang would take forever.
STEP_BOUND_S = 4 * TIMEOUT_MS / 1000 + 2
SLACK_S = 15
SSL_REQUEST = 80877103


class FakeServer:
    """A TCP listener on 127.0.0.1 that answers every connection with `serve(conn)`."""

    def __init__(self, serve):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.serve = serve
        self.conns = []
        self.thread = threading.Thread(target=self.accept, daemon=True)
        self.thread.start()

    def accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            threading.Thread(target=self.run_one, args=(conn,), daemon=True).start()

    def run_one(self, conn):
        try:
            self.serve(conn)
        except OSError:
            pass

    def close(self):
        self.sock.close()
        for conn in self.conns:
            conn.close()
        self.thread.join(timeout=10)


def drain(conn):
    while conn.recv(4096):
        pass


def never_answers(conn):
    drain(conn)


def pg_handshake_then_silence(conn):
    """Refuses TLS, lets the client in without a password, then never answers
    a query: what a connection pooler whose backend hangs looks like."""
    data = conn.recv(4096)
    if len(data) >= 8 and struct.unpack("!I", data[4:8])[0] == SSL_REQUEST:
        conn.sendall(b"N")
        conn.recv(4096)
    conn.sendall(b"R" + struct.pack("!II", 8, 0) + b"Z" + struct.pack("!I", 5) + b"I")
    drain(conn)


def http_server(conn):
    conn.recv(4096)
    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
    conn.close()


def escape_bytes(conn):
    """Answers with a terminal escape sequence, which libpq quotes."""
    conn.recv(4096)
    conn.sendall(b"\x1b[2J\x1b]0;owned\x07")
    conn.close()


def closes_mid_handshake(conn):
    conn.recv(4096)
    conn.close()


def has_control_characters(text):
    return any(ord(c) < 32 and c != "\n" for c in text)


class CheckConnectAttack(base.CheckConnect):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pg.sql("CREATE SCHEMA \"Sch\"; GRANT USAGE ON SCHEMA \"Sch\" TO app;"
                   "CREATE TABLE \"Sch\".\"Routes\" (seq bigint, user_id integer, ts timestamptz, lat float8, lon float8);"
                   "CREATE TABLE routes_part (seq bigint, user_id integer, ts timestamptz, lat float8, lon float8) "
                   "PARTITION BY RANGE (seq);"
                   "CREATE TABLE routes_part_0 PARTITION OF routes_part FOR VALUES FROM (0) TO (1000);"
                   "CREATE VIEW routes_view AS SELECT * FROM routes;"
                   "CREATE TABLE routes_read (seq bigint, user_id integer, ts timestamptz, lat float8, lon float8);"
                   "GRANT INSERT ON \"Sch\".\"Routes\", routes_part, routes_view TO app;"
                   "GRANT SELECT ON routes_read TO app")

    def fake(self, serve):
        server = FakeServer(serve)
        self.addCleanup(server.close)
        return server

    def assert_consistent(self, proc):
        """Exit 0 exactly when no line is FAIL; the summary counts the lines."""
        lines = lines_of(proc)
        fails = [line for line in lines if line.startswith("FAIL")]
        self.assertEqual(proc.returncode, 1 if fails else 0, proc.stdout + proc.stderr)
        if fails:
            self.assertIn(f"{len(fails)} of {len(lines)} checks failed", proc.stdout)
        else:
            self.assertIn(f"all {len(lines)} checks passed", proc.stdout)
        self.assertNotIn("terminate called", proc.stderr)
        self.assertFalse(has_control_characters(proc.stdout), repr(proc.stdout))

    def test_a_database_that_stops_answering_after_the_handshake_fails_within_a_bound(self):
        server = self.fake(pg_handshake_then_silence)
        with broker("routes:1") as address:
            proc, elapsed = self.check(address, pg_uri=f"postgres://app:WrongPw@127.0.0.1:{server.port}/postgres"
                                                        "?sslmode=disable")
        self.assert_one_fail(proc, "sinks.store: no answer within")
        self.assert_consistent(proc)
        self.assertGreaterEqual(elapsed, STEP_BOUND_S - 1)
        self.assertLess(elapsed, STEP_BOUND_S + SLACK_S)

    def test_garbage_servers_give_one_clean_fail_line_and_no_password(self):
        for serve, wanted in [(http_server, "received invalid response to SSL negotiation: H"),
                              (escape_bytes, "received invalid response to SSL negotiation"),
                              (closes_mid_handshake, "server closed the connection unexpectedly"),
                              (never_answers, "timeout expired")]:
            with self.subTest(serve.__name__):
                server = self.fake(serve)
                with broker("routes:1") as address:
                    proc, elapsed = self.check(address, pg_uri=f"postgres://app:WrongPw@127.0.0.1:{server.port}/x")
                self.assert_one_fail(proc, "sinks.store: connecting to PostgreSQL", wanted)
                self.assert_consistent(proc)
                self.assertLess(elapsed, STEP_BOUND_S + SLACK_S)

    def test_kafka_listeners_that_never_answer_or_send_garbage_fail_within_the_timeout(self):
        for serve in (never_answers, http_server, escape_bytes):
            with self.subTest(serve.__name__):
                server = self.fake(serve)
                proc, elapsed = self.check(f"127.0.0.1:{server.port}")
                self.assert_one_fail(proc, f"kafka: 127.0.0.1:{server.port}: no metadata within {TIMEOUT_MS} ms")
                self.assert_consistent(proc)
                self.assertLess(elapsed, TIMEOUT_MS / 1000 + SLACK_S)

    def test_a_password_written_any_way_is_never_shown(self):
        secret_file = self.write("pg_password", "WrongPw-from-file\n")
        port = self.pg.port
        cases = [
            ("uri, url-encoded", f"postgres://app:WrongPw%40x@127.0.0.1:{port}/postgres", {}, ["WrongPw@x"]),
            ("key=value", f"host=127.0.0.1 port={port} user=app password=WrongPwKv dbname=postgres", {}, []),
            ("quoted key=value", f"host=127.0.0.1 port={port} user=app password='WrongPw q' dbname=postgres", {},
             ["WrongPw q"]),
            ("options", f"host=127.0.0.1 port={port} user=app password={PASSWORD} dbname=postgres "
                        "options='-c statement_timeout=WrongPwOpt'", {}, ["WrongPwOpt"]),
            ("PGPASSWORD", f"host=127.0.0.1 port={port} user=app dbname=postgres", {"PGPASSWORD": "WrongPwEnv"},
             ["WrongPwEnv"]),
            ("${file:}", f"host=127.0.0.1 port={port} user=app dbname=postgres password=${{file:{secret_file}}}", {},
             ["WrongPw-from-file"]),
            ("a password that breaks the URI", f"postgres://app:WrongPw/abc@127.0.0.1:{port}/postgres", {},
             ["WrongPw/abc"]),
        ]
        with broker("routes:1") as address:
            for name, conninfo, env, secrets in cases:
                with self.subTest(name):
                    path = self.write("p.toml", PIPELINE.format(table="routes", extra="").replace(
                        "${PG_URI}", conninfo))
                    proc = run("check", "--connect", "--timeout-ms", str(TIMEOUT_MS), path,
                               env={"KAFKA_BOOTSTRAP": address, **env}, timeout=120)
                    output = proc.stdout + proc.stderr
                    for secret in [PASSWORD, "WrongPw"] + secrets:
                        self.assertNotIn(secret, output)
                    self.assert_one_fail(proc, "sinks.store: connecting to PostgreSQL")
                    self.assert_consistent(proc)

    def test_a_signal_during_a_check_ends_it_at_once(self):
        server = self.fake(pg_handshake_then_silence)
        with broker("routes:1") as address:
            path = self.write("p.toml", PIPELINE.format(table="routes", extra=""))
            env = dict(os.environ, KAFKA_BOOTSTRAP=address,
                       PG_URI=f"postgres://app:{PASSWORD}@127.0.0.1:{server.port}/postgres?sslmode=disable")
            for sig in (signal.SIGINT, signal.SIGTERM):
                with self.subTest(sig.name):
                    accepted = len(server.conns)
                    proc = subprocess.Popen([SLUICE, "check", "--connect", "--timeout-ms", "60000", path], env=env,
                                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                    try:
                        # Stuck in the database step: the fake server has its connection.
                        deadline = time.monotonic() + 60
                        while len(server.conns) == accepted and time.monotonic() < deadline:
                            time.sleep(0.05)
                        self.assertGreater(len(server.conns), accepted)
                        start = time.monotonic()
                        proc.send_signal(sig)
                        out, err = proc.communicate(timeout=SLACK_S)
                    finally:
                        if proc.poll() is None:
                            proc.kill()
                            proc.communicate()
                    self.assertLess(time.monotonic() - start, SLACK_S)
                    # Ended by the signal (a shell shows 128 + its number), not "all passed".
                    self.assertEqual(proc.returncode, -sig)
                    self.assertNotIn("checks passed", out)
                    self.assertNotIn(PASSWORD, out + err)

    def test_a_timeout_out_of_range_is_refused_before_contacting_anything(self):
        server = self.fake(never_answers)
        path = self.write("p.toml", PIPELINE.format(table="routes", extra=""))
        for value in ("0", "-1", "99", "600001", "99999999999999999999", "abc"):
            with self.subTest(value):
                proc = run("check", "--connect", "--timeout-ms", value, path,
                           env={"KAFKA_BOOTSTRAP": f"127.0.0.1:{server.port}", "PG_URI": self.uri()}, timeout=60)
                self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
                self.assertIn("--timeout-ms", proc.stderr)
                self.assertEqual(lines_of(proc), [])
        self.assertEqual(server.conns, [])

    def test_quoted_schema_qualified_and_partitioned_tables_pass(self):
        with broker("routes:2") as address:
            self.produce_route(address)
            for table, shown in [("Sch.Routes", '"Sch"."Routes"'), ("routes_part", '"routes_part"')]:
                with self.subTest(table):
                    proc, _ = self.check(address, table=table)
                    self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
                    self.assertIn(f"ok   sinks.store: role app may INSERT into {shown}", proc.stdout)
                    self.assertIn("1 of the 1 recent record(s) of the topic convert", proc.stdout)
                    self.assert_consistent(proc)

    def test_a_view_fails_because_copy_cannot_write_it(self):
        with broker("routes:1") as address:
            proc, _ = self.check(address, table="routes_view")
        self.assert_one_fail(proc, '"routes_view" is a view', "COPY")
        self.assert_consistent(proc)

    def test_select_without_insert_fails(self):
        with broker("routes:1") as address:
            proc, _ = self.check(address, table="routes_read")
        self.assert_one_fail(proc, 'role app lacks INSERT on table "routes_read"')
        self.assert_consistent(proc)

    def test_an_empty_topic_says_the_field_types_were_not_tried(self):
        with broker("routes:1") as address:
            proc, _ = self.check(address)
        self.assertEqual(proc.returncode, 0, proc.stdout)
        self.assertIn("field types not tried: topic routes holds no records yet", proc.stdout)
        self.assert_consistent(proc)

    def test_binary_and_escape_records_give_a_clean_fail_line(self):
        from kafka import KafkaProducer
        with broker("routes:2") as address:
            producer = KafkaProducer(bootstrap_servers=address, api_version=(2, 5, 0))
            producer.send("routes", b"\x00\xff\x1b[31m\xfe garbage", partition=0)
            producer.send("routes", b'{"seq": "\\u001b[2J", "user_id": 1}', partition=1)
            producer.flush(timeout=30)
            producer.close()
            proc, _ = self.check(address)
        # The record that is JSON but does not convert is the one named, with where it is.
        self.assert_one_fail(proc, "(topic routes, partition 1, offset 0)",
                             "none of the 2 recent record(s) of the topic could be stored")
        self.assert_consistent(proc)

    def test_newest_records_that_are_not_json_are_not_blamed_on_the_table(self):
        """Garbage and a tombstone would be rejects whatever the columns: the
        table line is ok and says the field types were not tried, and why."""
        from kafka import KafkaProducer
        with broker("routes:2") as address:
            producer = KafkaProducer(bootstrap_servers=address, api_version=(2, 5, 0))
            producer.send("routes", b"\x00\xff\xfe garbage", partition=0)
            producer.send("routes", None, key=b"gone", partition=1)
            producer.flush(timeout=30)
            producer.close()
            proc, _ = self.check(address)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("field types not tried: none of the 2 recent record(s) of the topic is JSON "
                      "(each would be a reject: not valid JSON: ", proc.stdout)
        self.assertIn("(topic routes, partition ", proc.stdout)
        self.assert_consistent(proc)

    def test_several_sources_and_sinks_one_line_per_check(self):
        text = PIPELINE.format(table="routes", extra="") + """
[[sources]]
name = "more"
type = "random_routes"
topic = "other"
count = 1
[[sinks]]
name = "missing"
type = "postgres"
topic = "routes"
conninfo = "${PG_URI}"
table = "no_such_table"
[[sinks]]
name = "screen"
type = "stdout"
topic = "other"
"""
        path = self.write("p.toml", text)
        with broker("routes:1") as address:
            before = catalog(self.pg)
            proc = run("check", "--connect", "--timeout-ms", str(TIMEOUT_MS), path,
                       env={"KAFKA_BOOTSTRAP": address, "PG_URI": self.uri()}, timeout=120)
            self.assertEqual(catalog(self.pg), before)
        self.assertNotIn(PASSWORD, proc.stdout + proc.stderr)
        fails = [line for line in lines_of(proc) if line.startswith("FAIL")]
        self.assertEqual(len(fails), 1, proc.stdout)
        self.assertIn("sinks.missing:", fails[0])
        self.assertIn("no_such_table", fails[0])
        self.assertIn("ok   sinks.store: role app may INSERT", proc.stdout)
        self.assert_consistent(proc)

    def test_a_pipeline_with_only_a_stdout_sink(self):
        path = self.write("p.toml", """
name = "screen"
[kafka]
bootstrap_servers = "${KAFKA_BOOTSTRAP}"
[[sources]]
type = "random_routes"
topic = "routes"
count = 1
[[sinks]]
name = "screen"
type = "stdout"
topic = "routes"
""")
        with broker("routes:1") as address:
            proc = run("check", "--connect", "--timeout-ms", str(TIMEOUT_MS), path,
                       env={"KAFKA_BOOTSTRAP": address}, timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("ok   kafka: topic routes exists", proc.stdout)
        self.assert_consistent(proc)


# The base class's own tests run in test_check_connect.py.
for _name in [n for n in dir(base.CheckConnect) if n.startswith("test_")]:
    setattr(CheckConnectAttack, _name, None)
del _name
