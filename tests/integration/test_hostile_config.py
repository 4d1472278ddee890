"""Hostile pipeline files, through the real binary: what libpq or librdkafka
would quote of a secret never reaches the terminal (check and run alike),
every file a pipeline names must be a regular file of bounded size, and what
`run` would refuse `check` refuses too, at the offending key's line:col."""
import os
import re

from harness import TempDirTest, run
from pg import Postgres

# Every secret and every fragment of one below contains MARK: it must never
# appear in stdout or stderr.
MARK = "Zq7"
SOURCE = '[[sources]]\ntype = "random_routes"\ntopic = "routes"\ncount = 1\n'
STDOUT_SINK = '[[sinks]]\ntype = "stdout"\ntopic = "routes"\n'


def value_pos(text, key):
    """line:col (1-based) of the value of the first `key = value` in `text`, where errors point."""
    at = text.index(key) + len(key)
    at = text.index("=", at) + 1
    while text[at] == " ":
        at += 1
    line = text.count("\n", 0, at) + 1
    return f"{line}:{at - (text.rfind(chr(10), 0, at) + 1) + 1}"


class HostileTest(TempDirTest):
    def refused(self, text, key, message, verbs=(("check",), ("check", "--offline"), ("run",)), env=None,
                timeout=60):
        """Every verb exits 2 with `file:line:col: error: ...message` (a regex), at the value of the
        first `key` in the pipeline, and starts nothing. Returns the last stderr."""
        path = self.write("p.toml", text)
        where = re.escape(f"{path}:{value_pos(text, key)}: error: ")
        for verb in verbs:
            proc = run(*verb, path, env=env, timeout=timeout)
            self.assertEqual(proc.returncode, 2, f"{verb}: {proc.stdout}{proc.stderr}")
            self.assertRegex(proc.stderr, where + message, verb)
            self.assertNotIn("starting", proc.stderr, f"{verb} started despite the error")
            self.assertNotIn(MARK, proc.stdout + proc.stderr, verb)
        return proc.stderr


class SecretsInLibraryMessages(HostileTest):
    """libpq quotes what it cannot parse: the password, the tail after it, or the whole URI."""

    @classmethod
    def setUpClass(cls):
        cls.pg = Postgres()
        cls.pg.sql("CREATE TABLE routes (seq bigint, user_id integer)")

    @classmethod
    def tearDownClass(cls):
        cls.pg.close()

    def pipeline(self, conninfo, table="routes"):
        return (SOURCE + '[[sinks]]\ntype = "postgres"\ntopic = "routes"\n'
                f'conninfo = "{conninfo}"\ntable = "{table}"\n')

    def malformed(self):
        port = self.pg.port
        return {
            # an unquoted space ends the password: `missing "=" after "Zq7tail"`
            "key=value, space in password": f"host=127.0.0.1 port={port} user=postgres password=Zq7pass Zq7tail",
            "key=value, text after a quoted password": f"host=127.0.0.1 port={port} password='Zq7 a' Zq7tail",
            "key=value, unterminated quote": f"host=127.0.0.1 port={port} password='Zq7pass",
            # `invalid percent-encoded token: "Zq7pa%zz55"`
            "URI, bad percent-encoding": f"postgresql://postgres:Zq7pa%zz55@127.0.0.1:{port}/postgres",
            # libpq quotes the whole URI here
            "URI, unterminated IPv6 host": f"postgresql://postgres:Zq7pass@[::1:{port}/postgres",
            "URI, unknown parameter": f"postgres://postgres:Zq7pass@127.0.0.1:{port}/postgres?Zq7opt=1",
        }

    def test_unparsable_conninfo_is_refused_by_check_and_run_without_quoting_it(self):
        for name, conninfo in self.malformed().items():
            with self.subTest(name):
                text = self.pipeline(conninfo)
                stderr = self.refused(text, "conninfo", r"sinks\[0\]\.conninfo: libpq cannot parse this conninfo",
                                      verbs=(("check",), ("check", "--offline"), ("check", "--print"), ("run",)))
                self.assertNotIn("%zz", stderr)

    def test_secret_file_in_a_plain_option_is_masked_in_runs_log(self):
        secret = self.write("table_name", f"{MARK}_private_table\n")
        text = self.pipeline(self.pg.dsn, table=f"${{file:{secret}}}")
        path = self.write("p.toml", text)
        for verb in (("check",), ("run",)):
            proc = run(*verb, path)
            # the table does not exist: refused, naming it only as ***
            self.assertNotEqual(proc.returncode, 0, proc.stderr)
            self.assertIn("***", proc.stderr, verb)
            self.assertNotIn(MARK, proc.stdout + proc.stderr, verb)

    def test_uri_password_is_masked_when_the_connection_fails(self):
        # parses, but nothing listens on port 1: libpq's message must not carry the URI's password
        text = self.pipeline(f"postgresql://postgres:{MARK}pw@127.0.0.1:1/postgres?connect_timeout=2")
        path = self.write("p.toml", text)
        for verb in (("check",), ("run",)):
            proc = run(*verb, path)
            self.assertNotIn(MARK, proc.stdout + proc.stderr, verb)
        self.assertEqual(proc.returncode, 1, proc.stderr)


class SecretsInKafkaLogs(HostileTest):
    def test_secret_file_value_in_client_id_is_masked_in_librdkafkas_log(self):
        # librdkafka names its clients after client.id in every log line; a consumer property
        # set on the producer makes it log one
        secret = self.write("client", f"{MARK}-client\n")
        text = (f'[kafka]\nclient_id = "${{file:{secret}}}"\nlibrdkafka = {{ "auto.offset.reset" = "earliest" }}\n'
                + SOURCE.replace("count = 1", "count = 3") + STDOUT_SINK)
        path = self.write("p.toml", text)
        proc = run("run", path, "--progress", "0s", check=0)
        self.assertIn("CONFWARN", proc.stderr)
        self.assertNotIn(MARK, proc.stderr)


class NamedFilesAreBoundedRegularFiles(HostileTest):
    def test_secret_file_that_is_a_device_or_a_directory(self):
        for target, kind in (("/dev/zero", "a character device"), (self.dir, "a directory")):
            with self.subTest(target):
                text = f'[kafka]\nclient_id = "${{file:{target}}}"\n' + SOURCE + STDOUT_SINK
                self.refused(text, "client_id", r"kafka\.client_id: secret file: `" + re.escape(target) +
                             f"` is {kind}, not a regular file")

    def transform_pipeline(self):
        return SOURCE + 'transforms = ["t.lua"]\n' + STDOUT_SINK

    def test_script_that_is_a_directory_a_fifo_or_huge(self):
        script = os.path.join(self.dir, "t.lua")
        cases = {
            "directory": (lambda: os.mkdir(script), "is a directory"),
            "fifo": (lambda: os.mkfifo(script), "is a FIFO"),
            "huge": (lambda: self.write("t.lua", "-- padding\n" * 400_000 + "function transform(r) return r end\n"),
                     "is larger than 4 MiB"),
        }
        for name, (make, problem) in cases.items():
            with self.subTest(name):
                make()
                try:
                    self.refused(self.transform_pipeline(), "transforms",
                                 r"sources\[0\]\.transforms: .*" + re.escape(script) + ".*" + problem, timeout=30)
                finally:
                    os.rmdir(script) if os.path.isdir(script) else os.remove(script)

    def test_required_module_that_is_a_fifo(self):
        self.write("t.lua", 'local m = require("mod")\nfunction transform(r) return r end\n')
        os.mkfifo(os.path.join(self.dir, "mod.lua"))
        self.refused(self.transform_pipeline(), "transforms",
                     r"sources\[0\]\.transforms: .*require `mod`: `.*mod\.lua` is a FIFO", timeout=30)

    def test_targets_file_that_is_a_fifo_or_a_directory(self):
        targets = os.path.join(self.dir, "targets.txt")
        text = ('[[sources]]\ntype = "http_checker"\ntopic = "checks"\ntargets_file = "targets.txt"\n'
                '[[sinks]]\ntype = "stdout"\ntopic = "checks"\n')
        for name, make, problem in (("fifo", os.mkfifo, "is a FIFO"), ("directory", os.mkdir, "is a directory")):
            with self.subTest(name):
                make(targets)
                try:
                    self.refused(text, "targets_file", r"sources\[0\]\.targets_file: `" + re.escape(targets) +
                                 "` " + problem, timeout=30)
                finally:
                    os.rmdir(targets) if os.path.isdir(targets) else os.remove(targets)

    def test_kafka_ca_file_that_is_a_directory(self):
        text = f'[kafka]\nsecurity_protocol = "ssl"\nssl_ca = "{self.dir}"\n' + SOURCE + STDOUT_SINK
        self.refused(text, "ssl_ca", r"kafka\.ssl_ca: `" + re.escape(self.dir) + "` is a directory")


class CheckRefusesWhatRunRefuses(HostileTest):
    def test_invalid_librdkafka_value(self):
        text = '[kafka]\n[kafka.librdkafka]\n"queue.buffering.max.ms" = "abc"\n' + SOURCE + STDOUT_SINK
        self.refused(text, '"queue.buffering.max.ms"', r"kafka\.librdkafka\.queue\.buffering\.max\.ms: Invalid value")

    def test_unknown_librdkafka_property(self):
        text = '[kafka]\nlibrdkafka = { "no.such.property" = "x" }\n' + SOURCE + STDOUT_SINK
        self.refused(text, '"no.such.property"', r"kafka\.librdkafka\.no\.such\.property: .*No such configuration")

    def test_librdkafka_settings_that_conflict_with_runs_own(self):
        # run's producer is idempotent; librdkafka refuses acks=1 with it, at client creation
        text = '[kafka]\nlibrdkafka = { "acks" = "1" }\n' + SOURCE + STDOUT_SINK
        self.refused(text, "librdkafka", r"kafka: librdkafka refuses these settings for the producer")

    def test_secret_in_an_invalid_librdkafka_value_is_not_quoted(self):
        text = f'[kafka]\n[kafka.librdkafka]\n"sasl.password" = "pw-Qm4r8v"\n"batch.size" = "{MARK}"\n' + SOURCE + STDOUT_SINK
        # batch.size is not secret: its value may be quoted; a secret-file value is not
        secret = self.write("size", MARK + "\n")
        text = text.replace(f'"{MARK}"', f'"${{file:{secret}}}"')
        self.refused(text, '"batch.size"', r"kafka\.librdkafka\.batch\.size: ")
