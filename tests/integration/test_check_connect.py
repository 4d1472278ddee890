"""`sluice check --connect`: one ok/FAIL line per check against a real
PostgreSQL and a `sluice broker`, a non-zero exit for any FAIL, a bounded
time against an unreachable system, no secret in the output, and nothing
created or written anywhere (the catalog is compared before and after)."""
import json
import os
import select
import socket
import ssl
import threading
import time

from kafka import KafkaProducer

from harness import SOURCE_DIR, TempDirTest, broker, closed_port, run
from pg import Postgres
from test_postgres_tls import make_ca_and_server_cert

PASSWORD = "Pw-8f3k2-secret"
ROUTE = {"seq": 1, "user_id": 3, "ts": "2024-05-01T12:00:00Z", "lat": 60.17, "lon": 24.94}

PIPELINE = """
name = "connect"
[kafka]
bootstrap_servers = "${{KAFKA_BOOTSTRAP}}"
[[sources]]
type = "random_routes"
topic = "routes"
count = 10
[[sinks]]
name = "store"
type = "postgres"
topic = "routes"
conninfo = "${{PG_URI}}"
table = "{table}"
{extra}
"""

# A role that logs in with a password (PostgreSQL's own superuser keeps trust
# for the test's psql), and may create tables in `public` (PostgreSQL 15
# no longer lets every role).
HBA = ("local all all trust\nhost all postgres 127.0.0.1/32 trust\n"
       "host all all 127.0.0.1/32 scram-sha-256\n")

# Timeout given to check, and what a check may take at most against an
# unreachable system (connection attempts are bounded by it, with slack for
# a loaded machine; a hang would take forever).
TIMEOUT_MS = 2000
BOUND_S = 30


def catalog(pg):
    """Every relation and every role: what a check must leave as it found it."""
    return pg.sql("SELECT relname, relkind FROM pg_class ORDER BY relname, relkind") + \
        pg.sql("SELECT rolname FROM pg_roles ORDER BY rolname")


def lines_of(proc):
    return [line for line in proc.stdout.splitlines() if line.startswith(("ok ", "FAIL "))]


class CheckConnect(TempDirTest):
    @classmethod
    def setUpClass(cls):
        def allow_passwords(data):
            with open(os.path.join(data, "pg_hba.conf"), "w") as f:
                f.write(HBA)
        cls.pg = Postgres(before_start=allow_passwords)
        cls.pg.sql(f"CREATE ROLE app LOGIN PASSWORD '{PASSWORD}'; GRANT CREATE ON SCHEMA public TO app;"
                   "CREATE TABLE routes (seq bigint, user_id integer, ts timestamptz, lat float8, lon float8);"
                   "CREATE TABLE routes_bool (seq bigint, user_id integer, ts timestamptz, lat boolean, lon float8);"
                   "GRANT INSERT ON routes, routes_bool TO app")

    @classmethod
    def tearDownClass(cls):
        cls.pg.close()

    def uri(self, password=PASSWORD):
        return f"postgres://app:{password}@127.0.0.1:{self.pg.port}/postgres"

    def check(self, address, table="routes", extra="", pg_uri=None):
        """Runs check --connect; asserts nothing was created and no password shown; returns (proc, seconds)."""
        path = self.write("p.toml", PIPELINE.format(table=table, extra=extra))
        before = catalog(self.pg)
        start = time.monotonic()
        proc = run("check", "--connect", "--timeout-ms", str(TIMEOUT_MS), path,
                   env={"KAFKA_BOOTSTRAP": address, "PG_URI": pg_uri or self.uri()}, timeout=120)
        elapsed = time.monotonic() - start
        self.assertEqual(catalog(self.pg), before, "check --connect changed the catalog")
        output = proc.stdout + proc.stderr
        self.assertNotIn(PASSWORD, output)
        self.assertNotIn("WrongPw", output)
        return proc, elapsed

    def produce_route(self, address, record=ROUTE):
        producer = KafkaProducer(bootstrap_servers=address, api_version=(2, 5, 0))
        producer.send("routes", json.dumps(record).encode(), partition=0)
        producer.flush(timeout=30)
        producer.close()

    def assert_one_fail(self, proc, *wanted):
        """Exit 1 and exactly one FAIL line, holding every text of `wanted`."""
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        fails = [line for line in lines_of(proc) if line.startswith("FAIL")]
        self.assertEqual(len(fails), 1, proc.stdout)
        for text in wanted:
            self.assertIn(text, fails[0])
        return fails[0]

    def test_a_good_config_passes_every_check(self):
        with broker("routes:2") as address:
            self.produce_route(address)
            proc, _ = self.check(address)
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
            lines = lines_of(proc)
            self.assertTrue(lines and all(line.startswith("ok ") for line in lines), proc.stdout)
            text = proc.stdout
            self.assertIn(f"ok   kafka: {address}: metadata in ", text)
            self.assertIn("ok   kafka: topic routes exists (2 partitions)", text)
            self.assertIn("ok   sinks.store: postgres connected (server 1", text)
            self.assertIn("user app, database postgres, TLS off", text)
            self.assertIn("1 of the 1 recent record(s) of the topic convert", text)
            self.assertIn("role app may INSERT into \"routes\"", text)
            self.assertIn("offsets_table \"sluice_offsets\" does not exist; sluice will create it", text)
            self.assertIn("rejects_table \"sluice_rejects\" does not exist; sluice will create it", text)
            self.assertIn("all 7 checks passed", text)
            # Read by assignment: no offset stored for the check's group name.
            from kafka import KafkaConsumer, TopicPartition
            consumer = KafkaConsumer(bootstrap_servers=address, api_version=(2, 5, 0), group_id="sluice-check",
                                     enable_auto_commit=False)
            self.addCleanup(consumer.close)
            self.assertIsNone(consumer.committed(TopicPartition("routes", 0)))

    def test_a_missing_topic_that_a_source_writes_is_not_a_failure_and_is_not_created(self):
        from kafka import KafkaConsumer
        with broker() as address:
            proc, _ = self.check(address)
            consumer = KafkaConsumer(bootstrap_servers=address, api_version=(2, 5, 0))
            self.addCleanup(consumer.close)
            self.assertNotIn("routes", consumer.topics())
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
            self.assertIn("ok   kafka: topic routes does not exist (or this role may not describe it); the "
                          "producer's first request creates it", proc.stdout)
            self.assertIn("field types not tried: topic routes does not exist yet", proc.stdout)

    def test_a_wrong_password(self):
        with broker("routes:1") as address:
            proc, _ = self.check(address, pg_uri=self.uri("WrongPw-77"))
            self.assert_one_fail(proc, "sinks.store: connecting to PostgreSQL", "password authentication failed",
                                 "\"app\"")

    def test_a_missing_topic_nothing_writes_fails(self):
        with broker() as address:
            path = self.write("p.toml", PIPELINE.format(table="routes", extra="").split("[[sources]]")[0] + """
[[sinks]]
name = "store"
type = "postgres"
topic = "elsewhere"
conninfo = "${PG_URI}"
table = "routes"
""")
            proc = run("check", "--connect", path, env={"KAFKA_BOOTSTRAP": address, "PG_URI": self.uri()})
        self.assert_one_fail(proc, "kafka: topic elsewhere does not exist", "no source of this pipeline writes it")

    def test_a_missing_table(self):
        with broker("routes:1") as address:
            proc, _ = self.check(address, table="nowhere")
            self.assert_one_fail(proc, "sinks.store: table \"nowhere\" does not exist")

    def test_a_missing_column(self):
        with broker("routes:1") as address:
            proc, _ = self.check(address, extra='columns = { seq = "seq", altitude = "alt" }')
            self.assert_one_fail(proc, "sinks.store: columns: table \"routes\" has no column `altitude`")

    def test_a_column_of_a_type_the_field_cannot_convert_to(self):
        with broker("routes:1") as address:
            self.produce_route(address)
            proc, _ = self.check(address, table="routes_bool")
            self.assert_one_fail(proc, "sinks.store: column lat (boolean): field `lat` is a number, expected a boolean",
                                 "none of the 1 recent record(s)")

    def test_an_unreachable_broker_fails_within_the_timeout(self):
        with closed_port() as port:
            proc, elapsed = self.check(f"127.0.0.1:{port}")
        self.assert_one_fail(proc, f"kafka: 127.0.0.1:{port}: no metadata within {TIMEOUT_MS} ms", "refused")
        self.assertLess(elapsed, BOUND_S)
        self.assertIn("field types not tried: Kafka was not reached", proc.stdout)

    def test_an_unreachable_database_fails_within_the_timeout(self):
        with broker("routes:1") as address, closed_port() as port:
            proc, elapsed = self.check(address, pg_uri=f"postgres://app:{PASSWORD}@127.0.0.1:{port}/postgres")
        fail = self.assert_one_fail(proc, "sinks.store: connecting to PostgreSQL", str(port),
                                    "Connection refused Is the server running")
        self.assertIn(fail + "\n", proc.stdout)  # libpq's two lines, as one
        self.assertLess(elapsed, BOUND_S)

    def test_offsets_and_rejects_tables_of_another_shape_without_privileges_or_schema(self):
        self.pg.sql("CREATE TABLE odd_offsets (consumer_group text, topic text);"
                    "CREATE TABLE ro_rejects (id bigint, consumer_group text, topic text, partition integer, "
                    "\"offset\" bigint, key bytea, raw_value bytea, reason text, rejected_at timestamptz);"
                    "GRANT SELECT ON odd_offsets, ro_rejects TO app")
        self.addCleanup(self.pg.sql, "DROP TABLE odd_offsets, ro_rejects")
        with broker("routes:1") as address:
            proc, _ = self.check(address, extra='offsets_table = "odd_offsets"\nrejects_table = "ro_rejects"')
            self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
            fails = [line for line in lines_of(proc) if line.startswith("FAIL")]
            self.assertEqual(fails, [
                "FAIL sinks.store: offsets_table \"odd_offsets\" exists but is not the table sluice makes: "
                "column \"partition\" does not exist",
                "FAIL sinks.store: rejects_table \"ro_rejects\" exists, but role app lacks INSERT on it"], proc.stdout)
            proc, _ = self.check(address, extra='rejects_table = "missing.rejects"')
            self.assert_one_fail(proc, "rejects_table \"missing\".\"rejects\" does not exist, and its schema: "
                                       "schema \"missing\" does not exist")
        self.pg.sql("REVOKE CREATE ON SCHEMA public FROM app")
        self.addCleanup(self.pg.sql, "GRANT CREATE ON SCHEMA public TO app")
        with broker("routes:1") as address:
            proc, _ = self.check(address)
        self.assertEqual(proc.returncode, 1, proc.stdout)
        self.assertIn("FAIL sinks.store: offsets_table \"sluice_offsets\" does not exist, and role app may not "
                      "create it (no CREATE privilege on schema public)", proc.stdout)

    def test_a_wrong_password_from_a_secret_file_is_not_shown(self):
        secret = self.write("pg_password", "WrongPw-from-file\n")
        with broker("routes:1") as address:
            proc, _ = self.check(address, pg_uri=f"host=127.0.0.1 port={self.pg.port} user=app dbname=postgres "
                                                 f"password=${{file:{secret}}}")
        # PG_URI holds the ${file:} reference, expanded by sluice: a secret.
        self.assert_one_fail(proc, "password authentication failed")

    def test_sasl_failure_is_reported_plainly_without_the_password(self):
        # The embedded broker speaks no SASL: librdkafka reports an
        # authentication failure (its error callback, __AUTHENTICATION), as
        # it does for refused credentials on a real cluster.
        secret = self.write("kafka_password", "Sasl-Secret-991\n")
        path = self.write("sasl.toml", f"""
[kafka]
bootstrap_servers = "${{KAFKA_BOOTSTRAP}}"
security_protocol = "sasl_plaintext"
sasl_mechanism = "SCRAM-SHA-512"
sasl_username = "sluice"
sasl_password = "${{file:{secret}}}"
[[sinks]]
name = "out"
type = "stdout"
topic = "routes"
""")
        with broker("routes:1") as address:
            start = time.monotonic()
            proc = run("check", "--connect", "--timeout-ms", str(TIMEOUT_MS), path, env={"KAFKA_BOOTSTRAP": address})
        self.assertLess(time.monotonic() - start, BOUND_S)
        self.assert_one_fail(proc, "FAIL kafka: authentication failed: ", "SASL")
        self.assertNotIn("Sasl-Secret-991", proc.stdout + proc.stderr)

    def test_without_connect_check_is_unchanged(self):
        with broker("routes:1") as address:
            path = self.write("p.toml", PIPELINE.format(table="routes", extra=""))
            proc = run("check", path, env={"KAFKA_BOOTSTRAP": address, "PG_URI": self.uri()})
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, f"{path}: ok: pipeline `connect`, 1 source(s), 1 sink(s), kafka {address}\n")


class CheckConnectTls(TempDirTest):
    """PostgreSQL with sslmode=verify-full against a local server that only takes TLS."""

    def test_good_ca_passes_and_a_wrong_ca_fails_clearly(self):
        make_ca_and_server_cert(self.dir, "good")
        make_ca_and_server_cert(self.dir, "other")

        def install(data):
            with open(os.path.join(data, "pg_hba.conf"), "w") as f:
                f.write("local all all trust\nhostssl all all 127.0.0.1/32 trust\n"
                        "hostnossl all all 127.0.0.1/32 reject\n")
            for src, dst in (("good-server.pem", "server.pem"), ("good-server.key", "server.key")):
                path = os.path.join(data, dst)
                with open(os.path.join(self.dir, src)) as i, open(path, "w") as o:
                    o.write(i.read())
                os.chmod(path, 0o600)
                if os.geteuid() == 0:
                    import pwd
                    pw = pwd.getpwnam("postgres")
                    os.chown(path, pw.pw_uid, pw.pw_gid)

        pg = Postgres(extra_conf="ssl = on\nssl_cert_file = 'server.pem'\nssl_key_file = 'server.key'\n",
                      before_start=install)
        self.addCleanup(pg.close)
        pg.sql("CREATE TABLE routes (seq bigint, user_id integer, ts timestamptz, lat float8, lon float8)")
        path = self.write("p.toml", PIPELINE.format(table="routes", extra=""))
        base = f"postgres://postgres@localhost:{pg.port}/postgres?sslmode=verify-full&sslrootcert="
        proc = run("check", "--connect", path,
                   env={"KAFKA_BOOTSTRAP": "embedded", "PG_URI": base + os.path.join(self.dir, "good-ca.pem")})
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("ok   kafka: embedded broker: nothing to contact", proc.stdout)
        self.assertRegex(proc.stdout, r"ok   sinks.store: postgres connected \(server [0-9.]+, user postgres, "
                                      r"database postgres, TLS on \(TLSv1\.[23]\)\)")
        proc = run("check", "--connect", path,
                   env={"KAFKA_BOOTSTRAP": "embedded", "PG_URI": base + os.path.join(self.dir, "other-ca.pem")})
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        fails = [line for line in lines_of(proc) if line.startswith("FAIL")]
        self.assertEqual(len(fails), 1, proc.stdout)
        self.assertIn("sinks.store: connecting to PostgreSQL", fails[0])
        self.assertIn("certificate verify failed", fails[0])


class TlsProxy:
    """Terminates TLS on a loopback port and passes the bytes on to a
    plaintext port: a Kafka TLS listener in front of `sluice broker`, for
    the connections made to this port (see CheckConnectKafkaTls)."""

    def __init__(self, target_port, cert, key):
        self.target_port = target_port
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen()
        self.port = self.listener.getsockname()[1]
        self.open = []
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        try:
            tls = self.context.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError):
            conn.close()  # e.g. the client refused our certificate
            return
        upstream = socket.create_connection(("127.0.0.1", self.target_port))
        self.open += [tls, upstream]
        # One thread per connection: an SSL socket is not for two threads at once.
        try:
            while True:
                ready = [tls] if tls.pending() else select.select([tls, upstream], [], [], 1)[0]
                for source in ready:
                    data = source.recv(65536)
                    if not data:
                        return
                    (upstream if source is tls else tls).sendall(data)
        except OSError:
            return
        finally:
            tls.close()
            upstream.close()

    def close(self):
        self.listener.close()
        for s in self.open:
            try:
                s.close()
            except OSError:
                pass


class CheckConnectKafkaTls(TempDirTest):
    """Kafka over TLS to a local listener: the CA is used and a wrong one fails
    clearly. The listener is a TLS proxy in front of the embedded broker, and
    the broker's metadata still advertises its own plaintext address, so only
    what goes through the bootstrap connection (the metadata request) is
    encrypted; a client then reaching a partition leader meets plaintext and
    fails. check --connect says so in a FAIL line; a real TLS cluster
    advertises its TLS listeners."""

    PIPELINE = """
name = "tls"
[kafka]
bootstrap_servers = "127.0.0.1:${KAFKA_TLS_PORT}"
security_protocol = "ssl"
ssl_ca = "${KAFKA_CA}"
[[sinks]]
name = "out"
type = "stdout"
topic = "routes"
"""

    def test_good_ca_gets_metadata_and_a_wrong_ca_fails_clearly(self):
        make_ca_and_server_cert(self.dir, "good")
        make_ca_and_server_cert(self.dir, "other")
        path = self.write("tls.toml", self.PIPELINE)
        with broker("routes:1") as address:
            proxy = TlsProxy(int(address.rsplit(":", 1)[1]), os.path.join(self.dir, "good-server.pem"),
                             os.path.join(self.dir, "good-server.key"))
            self.addCleanup(proxy.close)
            env = {"KAFKA_TLS_PORT": str(proxy.port), "KAFKA_CA": os.path.join(self.dir, "good-ca.pem")}
            proc = run("check", "--connect", "--timeout-ms", str(TIMEOUT_MS), path, env=env, timeout=120)
            self.assertIn(f"ok   kafka: 127.0.0.1:{proxy.port}: metadata in ", proc.stdout)
            self.assertIn("ok   kafka: topic routes exists (1 partitions)", proc.stdout)
            # The limitation of this listener, not of check: reading goes to
            # the advertised plaintext address.
            fails = [line for line in lines_of(proc) if line.startswith("FAIL")]
            self.assertEqual(len(fails), 1, proc.stdout)
            self.assertIn("FAIL kafka: reading topic routes: partition 0 gave neither a record nor its end within "
                          f"{TIMEOUT_MS} ms", fails[0])
            self.assertEqual(proc.returncode, 1)

            env["KAFKA_CA"] = os.path.join(self.dir, "other-ca.pem")
            start = time.monotonic()
            proc = run("check", "--connect", "--timeout-ms", str(TIMEOUT_MS), path, env=env, timeout=120)
            self.assertLess(time.monotonic() - start, BOUND_S)
            self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
            fails = [line for line in lines_of(proc) if line.startswith("FAIL")]
            self.assertEqual(len(fails), 1, proc.stdout)
            self.assertIn(f"kafka: 127.0.0.1:{proxy.port}: no metadata within {TIMEOUT_MS} ms", fails[0])
            self.assertIn("certificate verify failed", fails[0])


class ManagedExample(TempDirTest):
    def test_managed_pipeline_passes_offline_check_with_dummy_values(self):
        path = os.path.join(SOURCE_DIR, "pipelines", "managed.toml")
        with open(path) as f:
            self.assertTrue(f.readline().startswith("# "))
        # Readable PEM files: check loads them into a TLS context, as run does.
        make_ca_and_server_cert(self.dir, "svc")
        env = {"KAFKA_BOOTSTRAP": "kafka.example.invalid:12345",
               "KAFKA_CA": os.path.join(self.dir, "svc-ca.pem"),
               "KAFKA_CERT": os.path.join(self.dir, "svc-server.pem"),
               "KAFKA_KEY": os.path.join(self.dir, "svc-server.key"),
               "PG_URI": "postgres://app:dummy-pw@db.example.invalid:5432/app?sslmode=verify-full"}
        proc = run("check", "--offline", path, env=env)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("ok: pipeline `managed`", proc.stdout)
        self.assertNotIn("dummy-pw", proc.stdout + proc.stderr)
