"""Hostile records against the PostgreSQL sink, through the real binary, a
real PostgreSQL and the embedded broker: whatever bytes a record or its
reject reason hold, and whatever fails at COMMIT, every record ends in the
table or in the rejects exactly once, and the run goes on (exit 0)."""
import json

from kafka import KafkaProducer

from harness import TempDirTest, broker, run
from pg import Postgres

PIPELINE = """
name = "hostile"
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

# Rejects with a NUL and a multi-byte character cut in half in their reason,
# a huge reason, and a reason that quotes raw bytes that are not UTF-8.
HOSTILE_LUA = r"""
function transform(r)
  if r.id == 2 then return nil, "bad \0 \xe2\x82" end
  if r.id == 8 then return nil, string.rep("\xe2\x82\xac", 100000) end
  return r
end
"""


class HostilePg(TempDirTest):
    def setUp(self):
        super().setUp()
        self.pg = Postgres()
        self.addCleanup(self.pg.close)
        self.pg.sql("SET TimeZone = 'UTC'; ALTER DATABASE postgres SET TimeZone = 'UTC'")

    def produce(self, address, topic, records, partitions):
        """records: (key bytes or None, value bytes or a JSON-able value), in order, round robin."""
        producer = KafkaProducer(bootstrap_servers=address, api_version=(2, 5, 0))
        for i, (key, value) in enumerate(records):
            if not isinstance(value, bytes):
                value = json.dumps(value).encode()
            producer.send(topic, key=key, value=value, partition=i % partitions)
        producer.flush(timeout=30)
        producer.close()

    def run_sink(self, table, records, extra="", partitions=1):
        """Runs the sink over `records` until it has consumed them all; asserts exit 0."""
        with broker(f"{table}:{partitions}") as address:
            self.produce(address, table, records, partitions)
            path = self.write(f"{table}.toml", PIPELINE.format(topic=table, table=table, extra=extra))
            return run("run", path, "--exit-after", str(len(records)), "--progress", "0s",
                       env={"KAFKA_BOOTSTRAP": address, "PG_URI": self.pg.dsn}, check=0)

    def assert_each_record_once(self, table, n):
        rows = int(self.pg.scalar(f"SELECT count(*) FROM {table}"))
        rejects = int(self.pg.scalar("SELECT count(*) FROM sluice_rejects"))
        self.assertEqual(rows + rejects, n)
        self.assertEqual(self.pg.scalar(
            "SELECT count(*) FROM (SELECT \"offset\" FROM sluice_rejects GROUP BY 1 HAVING count(*) > 1) d"), "0")
        self.assertEqual(sum(int(r[0]) for r in self.pg.sql("SELECT next_offset FROM sluice_offsets")), n)

    def reasons(self):
        return {int(o): r for o, r in self.pg.sql("SELECT \"offset\", reason FROM sluice_rejects")}

    def test_reasons_and_values_with_nul_invalid_utf8_and_huge_sizes_end_in_rejects(self):
        self.pg.sql("CREATE TABLE hostile (id bigint PRIMARY KEY, at timestamptz, name text)")
        self.write("hostile.lua", HOSTILE_LUA)
        at = "2024-01-01T00:00:00Z"
        records = [
            (None, {"id": 1, "at": at, "name": "ok"}),
            (None, {"id": 2, "at": at, "name": "rejected by Lua"}),
            # A long unparsable time: the reason quotes it, cut mid-character.
            (None, {"id": 3, "at": "\u00e9" * 40, "name": "x"}),
            (None, {"id": 4, "at": "\u0000yesterday", "name": "x"}),
            (None, {"id": 5, "at": at, "name": "nul \u0000 inside"}),
            # Not JSON, with a NUL and bytes that are not UTF-8.
            (b"\x00\xff\xfe", b"\xff\x00 not json \xe2\x82"),
            (b"\x00\xff", {"id": 7, "at": at, "name": "keyed"}),
            (None, {"id": 8, "at": at, "name": "huge reason"}),
            (None, {"id": 9, "at": at, "name": "last"}),
            # A JSON string, not an object: the transform's reason quotes its first 64 bytes, cut mid-character.
            (None, ('"' + "\u00e9" * 40 + '"').encode()),
        ]
        out = self.run_sink("hostile", records, 'transforms = ["hostile.lua"]\nbatch_max_rows = 100')
        self.assert_each_record_once("hostile", len(records))
        self.assertEqual(self.pg.sql("SELECT id FROM hostile ORDER BY id"), [["1"], ["7"], ["9"]])
        reasons = self.reasons()
        self.assertEqual(sorted(reasons), [1, 2, 3, 4, 5, 7, 9])
        self.assertEqual(reasons[1], "hostile.lua: bad \\0 \ufffd")
        self.assertIn("column at (timestamp with time zone): `" + "\u00e9" * 30, reasons[2])
        self.assertIn("is not an ISO 8601", reasons[2])
        self.assertIn("column at (timestamp with time zone): `\\0yesterday`", reasons[3])
        self.assertIn("column name (text)", reasons[4])
        self.assertIn("NUL", reasons[4])
        self.assertTrue(reasons[5].startswith("not valid JSON"), reasons[5])
        self.assertEqual(reasons[9], 'not a JSON object: "' + "\u00e9" * 31 + "\ufffd")
        # A huge reason is cut, on a character boundary, and says so.
        self.assertLess(len(reasons[7].encode()), 10000)
        self.assertTrue(reasons[7].startswith("hostile.lua: \u20ac\u20ac\u20ac"), reasons[7][:40])
        # The raw record and key are kept byte for byte.
        self.assertEqual(self.pg.sql("SELECT encode(key, 'hex'), encode(raw_value, 'hex') FROM sluice_rejects "
                                     "WHERE \"offset\" = 5"), [["00fffe", b"\xff\x00 not json \xe2\x82".hex()]])
        self.assertNotIn("error", out.stderr.lower())

    def test_reasons_are_made_valid_without_transforms_too(self):
        self.pg.sql("CREATE TABLE plain (id bigint, at timestamptz)")
        records = [(None, {"id": 1, "at": "\u00e9" * 40}), (None, {"id": 2, "at": "x\u0000"}),
                   (None, {"id": 3, "at": 0})]
        self.run_sink("plain", records)
        self.assert_each_record_once("plain", 3)
        reasons = self.reasons()
        self.assertEqual(sorted(reasons), [0, 1])
        self.assertIn("`x\\0` is not an ISO 8601", reasons[1])

    def test_deferred_unique_constraint_failing_at_commit_rejects_only_the_duplicate(self):
        self.pg.sql("CREATE TABLE deferred (id bigint, k text, "
                    "CONSTRAINT deferred_k UNIQUE (k) DEFERRABLE INITIALLY DEFERRED)")
        keys = ["a", "b", "dup", "c", "d", "dup", "e", "f", "g", "h", "i"]
        records = [(None, {"id": i, "k": k}) for i, k in enumerate(keys)]
        self.run_sink("deferred", records, "batch_max_rows = 1000")
        self.assert_each_record_once("deferred", len(records))
        self.assertEqual(self.pg.scalar("SELECT count(*) FROM deferred"), str(len(keys) - 1))
        self.assertEqual(self.pg.scalar("SELECT count(DISTINCT k) FROM deferred"), str(len(keys) - 1))
        reasons = self.reasons()
        self.assertEqual(list(reasons), [5])
        self.assertIn('duplicate key value violates unique constraint "deferred_k"', reasons[5])

    def test_deferred_foreign_key_failing_at_commit_rejects_the_orphans_and_keeps_deferral(self):
        self.pg.sql("CREATE TABLE node (id bigint PRIMARY KEY, parent bigint, CONSTRAINT node_parent "
                    "FOREIGN KEY (parent) REFERENCES node (id) DEFERRABLE INITIALLY DEFERRED)")
        # A child may come before its parent (that is what deferral is for); 99 never comes.
        records = [(None, {"id": 1, "parent": None}), (None, {"id": 2, "parent": 3}),
                   (None, {"id": 3, "parent": 1}), (None, {"id": 4, "parent": 99}),
                   (None, {"id": 5, "parent": 4}), (None, {"id": 6, "parent": 1})]
        self.run_sink("node", records, "batch_max_rows = 1000")
        self.assert_each_record_once("node", len(records))
        reasons = self.reasons()
        self.assertIn(3, reasons)
        self.assertIn('violates foreign key constraint "node_parent"', reasons[3])
        stored = {int(r[0]) for r in self.pg.sql("SELECT id FROM node")}
        self.assertTrue({1, 3, 6} <= stored, stored)
        self.assertNotIn(4, stored)

    def test_upsert_batch_refused_at_commit_across_partitions_rejects_one_of_the_duplicates(self):
        self.pg.sql("CREATE TABLE latest (user_id bigint PRIMARY KEY, email text, "
                    "CONSTRAINT latest_email UNIQUE (email) DEFERRABLE INITIALLY DEFERRED)")
        emails = ["a", "b", "c", "a", "e", "f", "g", "h"]
        records = [(None, {"user_id": i + 1, "email": e}) for i, e in enumerate(emails)]
        self.run_sink("latest", records, 'mode = "upsert"\nkey_columns = ["user_id"]\nbatch_max_rows = 1000',
                      partitions=2)
        self.assert_each_record_once("latest", len(records))
        (reason,) = self.pg.sql("SELECT reason FROM sluice_rejects")[0]
        self.assertIn('duplicate key value violates unique constraint "latest_email"', reason)
        users = {int(r[0]) for r in self.pg.sql("SELECT user_id FROM latest")}
        self.assertEqual(len(users & {1, 4}), 1, users)
        self.assertEqual(users - {1, 4}, {2, 3, 5, 6, 7, 8})

    def test_big_numbers_reach_jsonb_and_numeric_and_out_of_range_integers_say_so(self):
        self.pg.sql("CREATE TABLE nums (id bigint, doc jsonb, amount numeric, n bigint)")
        big = "123456789012345678901234567890"
        records = [
            (None, ('{"id":1,"doc":{"big":%s,"tiny":1e-400},"amount":%s,"n":1}' % (big, big)).encode()),
            (None, b'{"id":2,"doc":1e400,"amount":1e400,"n":2}'),
            (None, ('{"id":3,"doc":null,"amount":1,"n":%s}' % big).encode()),
            (None, b'{"id":4,"doc":null,"amount":1,"n":-99999999999999999999}'),
            (None, b'{"id":5,"doc":[1e400, "s"],"amount":1,"n":1e400}'),
            # Refused by PostgreSQL (jsonb holds no \u0000): its message names the column.
            (None, b'{"id":6,"doc":{"s":"\\u0000"},"amount":1,"n":6}'),
        ]
        self.run_sink("nums", records)
        self.assert_each_record_once("nums", len(records))
        self.assertEqual(self.pg.sql("SELECT id, doc->>'big', amount FROM nums WHERE id = 1"), [["1", big, big]])
        self.assertEqual(self.pg.scalar("SELECT (doc->>'tiny')::numeric = 1e-400 FROM nums WHERE id = 1"), "t")
        self.assertEqual(self.pg.scalar("SELECT doc::numeric = 1e400 AND amount = 1e400 FROM nums WHERE id = 2"), "t")
        reasons = self.reasons()
        self.assertEqual(sorted(reasons), [2, 3, 4, 5])
        self.assertTrue(reasons.pop(5).startswith("column doc: unsupported Unicode escape sequence"))
        self.assertEqual(reasons[2], f"column n (bigint): {big} is out of range")
        self.assertEqual(reasons[3], "column n (bigint): -99999999999999999999 is out of range")
        self.assertIn("column n (bigint): 1e400 ", reasons[4])
        for reason in reasons.values():
            self.assertNotIn("JSON", reason)

    def test_duplicate_keys_take_the_last_value_in_columns_as_in_jsonb(self):
        self.pg.sql("CREATE TABLE dups (id bigint, name text, inner_v bigint, doc jsonb)")
        records = [(None, b'{"id":1,"name":"first","name":"last","inner":{"v":1,"v":2},'
                          b'"doc":{"a":1,"a":2},"id":7}')]
        self.run_sink("dups", records, 'columns = { id = "id", name = "name", inner_v = "inner.v", doc = "doc" }')
        self.assert_each_record_once("dups", 1)
        self.assertEqual(self.pg.sql("SELECT id, name, inner_v, doc FROM dups"), [["7", "last", "2", '{"a": 2}']])
