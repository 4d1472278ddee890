"""The PostgreSQL sink's type conversions, in binary and in text COPY, read
back from a real server; and `sluice check` verifying the table."""
import contextlib
import json

from kafka import KafkaProducer

from harness import TempDirTest, broker, closed_port, run
from pg import Postgres

COLUMNS = """id bigint PRIMARY KEY, small smallint, r real, d double precision, flag boolean,
  name text, code varchar(5), doc jsonb, raw json, at timestamptz, wall timestamp, day date"""

PIPELINE = """
name = "types"
[kafka]
bootstrap_servers = "${{KAFKA_BOOTSTRAP}}"
[[sinks]]
name = "store"
type = "postgres"
topic = "{topic}"
conninfo = "${{PG_URI}}"
table = "{table}"
{extra}
"""

GOOD = [
    {"id": 9007199254740993, "small": -32768, "r": 1.5, "d": -0.1, "flag": True,
     "name": "tab\there, newline\nthere, back\\slash, h\u00e9llo \u2713", "code": "ab",
     "doc": {"nested": [1, 2.5, None, {"u": "\u00fc"}], "empty": {}}, "raw": [1, {"b": []}],
     "at": "2023-11-15T00:13:20.123456+02:00", "wall": "2023-11-15T00:13:20+02:00", "day": "2024-02-29"},
    {"id": 2, "small": None, "r": 3, "d": 1e300, "flag": False, "name": "", "code": "12345",
     "doc": "a string", "raw": None, "at": 1700000000.5, "wall": 1700000000, "day": 1700000000},
]
BAD = [
    ({"id": 3, "small": 40000, "r": 0, "d": 0, "flag": True, "name": "x", "code": "a", "doc": 1, "raw": 1,
      "at": 0, "wall": 0, "day": 0}, "column small (smallint): 40000 is out of range"),
    ({"id": 4, "small": 1, "r": 0, "d": 0, "flag": True, "name": "x", "code": "a", "doc": 1, "raw": 1,
      "at": "yesterday", "wall": 0, "day": 0}, "column at (timestamp with time zone): `yesterday` is not an ISO 8601"),
    # Refused by PostgreSQL itself, inside the binary COPY: isolated and rejected with its message.
    ({"id": 5, "small": 1, "r": 0, "d": 0, "flag": True, "name": "x", "code": "too long", "doc": 1, "raw": 1,
      "at": 0, "wall": 0, "day": 0}, "value too long for type character varying(5)"),
]
EXPECTED = [
    ["9007199254740993", "-32768", "1.5", "-0.1", "t", "ab",
     '{"empty": {}, "nested": [1, 2.5, null, {"u": "\u00fc"}]}', '[1,{"b":[]}]',
     "2023-11-14 22:13:20.123456+00", "2023-11-15 00:13:20", "2024-02-29"],
    ["2", "", "3", "1e+300", "f", "12345", '"a string"', "", "2023-11-14 22:13:20.5+00",
     "2023-11-14 22:13:20", "2023-11-14"],
]


class Types(TempDirTest):
    def setUp(self):
        super().setUp()
        self.pg = Postgres()
        self.addCleanup(self.pg.close)
        self.pg.sql("SET TimeZone = 'UTC'; ALTER DATABASE postgres SET TimeZone = 'UTC'")

    def pipeline(self, topic, table, extra=""):
        return self.write(f"{table}.toml", PIPELINE.format(topic=topic, table=table, extra=extra))

    def produce(self, address, topic, records):
        producer = KafkaProducer(bootstrap_servers=address, api_version=(2, 5, 0))
        for r in records:
            producer.send(topic, value=json.dumps(r).encode())
        producer.flush(timeout=120)
        producer.close()

    def check_round_trip(self, table, extra, expected_format):
        self.pg.sql(f"CREATE TABLE {table} ({COLUMNS})")
        records = GOOD + [r for r, _ in BAD]
        with broker(f"{table}:1") as address:
            self.produce(address, table, records)
            out = run("run", self.pipeline(table, table, extra), "--exit-after", str(len(records)),
                      env={"KAFKA_BOOTSTRAP": address, "PG_URI": self.pg.dsn}, check=0)
        self.assertIn(f"by {expected_format} COPY", out.stderr)
        # Text with a tab, a newline, a backslash and non-ASCII letters arrives unchanged.
        self.assertEqual(self.pg.scalar(f"SELECT count(*) FROM {table} WHERE name = "
                                        "E'tab\\there, newline\\nthere, back\\\\slash, h\u00e9llo \u2713'"), "1")
        rows = self.pg.sql(f"SELECT id, small, r, d, flag, code, doc, raw, at, wall, day FROM {table} ORDER BY id DESC")
        self.assertEqual(rows, EXPECTED)
        rejects = dict(self.pg.sql("SELECT \"offset\", reason FROM sluice_rejects ORDER BY 1"))
        self.assertEqual(len(rejects), len(BAD))
        for offset, (_, reason) in enumerate(BAD, start=len(GOOD)):
            self.assertIn(reason, rejects[str(offset)])

    def test_binary_copy_round_trips_every_type(self):
        self.check_round_trip("t_binary", "", "binary")

    def test_text_copy_gives_the_same_values(self):
        self.check_round_trip("t_text", 'copy_format = "text"', "text")

    def test_numeric_column_falls_back_to_text_and_binary_is_refused_at_start(self):
        self.pg.sql("CREATE TABLE amounts (id bigint, amount numeric(10,2))")
        with broker("amounts:1") as address:
            self.produce(address, "amounts", [{"id": 1, "amount": 12.345}, {"id": 2, "amount": 7}])
            env = {"KAFKA_BOOTSTRAP": address, "PG_URI": self.pg.dsn}
            refused = run("run", self.pipeline("amounts", "amounts", 'copy_format = "binary"'), env=env, check=2)
            self.assertIn("column amount (numeric(10,2)) has no binary form", refused.stderr)
            out = run("run", self.pipeline("amounts", "amounts"), "--exit-after", "2", env=env, check=0)
        self.assertIn("by text COPY", out.stderr)
        self.assertEqual(self.pg.sql("SELECT id, amount FROM amounts ORDER BY id"), [["1", "12.35"], ["2", "7.00"]])


class Check(TempDirTest):
    def test_check_reports_a_missing_table_and_column_but_only_warns_when_unreachable(self):
        pg = Postgres()
        self.addCleanup(pg.close)
        pg.sql("CREATE TABLE present (id bigint, name text)")
        missing_table = self.write("missing_table.toml", PIPELINE.format(topic="t", table="absent", extra=""))
        missing_column = self.write("missing_column.toml", PIPELINE.format(
            topic="t", table="present", extra='columns = { id = "id", nope = "x" }'))
        fine = self.write("fine.toml", PIPELINE.format(topic="t", table="present", extra=""))
        # a port held closed for the test, rather than one assumed to be unused
        held = contextlib.ExitStack()
        self.addCleanup(held.close)
        nothing_there = held.enter_context(closed_port())
        env = {"KAFKA_BOOTSTRAP": f"127.0.0.1:{nothing_there}", "PG_URI": pg.dsn}
        out = run("check", missing_table, env=env, check=2)
        self.assertIn(f"{missing_table}:5:1: error: sinks.store: table \"absent\" does not exist", out.stderr)
        out = run("check", missing_column, env=env, check=2)
        self.assertIn("error: sinks.store: columns: table \"present\" has no column `nope`", out.stderr)
        run("check", fine, env=env, check=0)
        # --offline does not contact PostgreSQL at all
        run("check", "--offline", missing_table, env=env, check=0)
        # An unreachable database is a warning: check also runs where production is out of reach.
        unreachable = dict(env, PG_URI=f"host=127.0.0.1 port={nothing_there} user=x password=hunter2 dbname=y")
        out = run("check", missing_table, env=unreachable, check=0)
        self.assertIn("warning: sinks.store: not verified: connecting to PostgreSQL", out.stderr)
        self.assertNotIn("hunter2", out.stderr + out.stdout)
