"""Hostile use of `sluice produce`, `sluice consume` and pipelines/events.toml:
a reader of stdout that goes away or a stdout that cannot be written, counts
and topic names that cannot work, a byte order mark, JSON scalars and
numbers beyond double into the events table."""
import json
import os
import subprocess
import time
import unittest

from harness import SLUICE, SOURCE_DIR, TempDirTest, broker, child_env
from pg import Postgres
from test_produce_consume import consume, produce, values


def fill(address, topic, n):
    data = b"".join(b'{"n":%d}\n' % i for i in range(n))
    proc = produce(address, topic, data)
    assert proc.returncode == 0, proc.stderr.decode()


class ConsumeOutput(TempDirTest):
    def test_a_reader_that_goes_away_ends_an_idle_consumer_quietly(self):
        # `sluice consume | head -1`: the backlog is printed, then nothing more
        # arrives, so only the closed pipe can end it.
        with broker("ev:1") as address:
            fill(address, "ev", 5)
            started = time.monotonic()
            proc = subprocess.run(["bash", "-o", "pipefail", "-c",
                                   f'"{SLUICE}" consume --topic ev --bootstrap-server {address} '
                                   '--from-beginning | head -1'], capture_output=True, timeout=60)
            err = proc.stderr.decode()
            self.assertEqual(proc.returncode, 0, err)
            self.assertEqual(json.loads(proc.stdout)["value"], {"n": 0})
            self.assertIn("the reader of stdout went away; stopping", err)
            self.assertNotIn("error", err)
            self.assertLess(time.monotonic() - started, 30)

    def test_a_full_disk_is_an_error_and_nothing_is_committed(self):
        with broker("ev:1") as address:
            fill(address, "ev", 3)
            with open("/dev/full", "wb") as full:
                proc = subprocess.run([SLUICE, "consume", "--topic", "ev", "--bootstrap-server", address,
                                       "--from-beginning", "--count", "3", "--group", "g"], stdout=full,
                                      stderr=subprocess.PIPE, timeout=60)
            err = proc.stderr.decode()
            self.assertEqual(proc.returncode, 1, err)
            self.assertIn("writing to stdout: No space left on device", err)
            # The group did not move past what was never written.
            proc, lines = consume(address, "ev", "--from-beginning", "--count", "3", "--group", "g")
            self.assertEqual([line["offset"] for line in lines], [0, 1, 2], proc.stderr.decode())

    def test_a_closed_stdout_is_an_error(self):
        with broker("ev:1") as address:
            fill(address, "ev", 1)
            proc = subprocess.run([SLUICE, "consume", "--topic", "ev", "--bootstrap-server", address,
                                   "--from-beginning", "--count", "1"], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, timeout=60, preexec_fn=lambda: os.close(1))
            self.assertEqual(proc.returncode, 1, proc.stderr.decode())
            self.assertIn("writing to stdout: Bad file descriptor", proc.stderr.decode())


class ConsumeValues(TempDirTest):
    def test_numbers_beyond_double_print_as_json_as_produce_accepted_them(self):
        from kafka import KafkaProducer
        with broker("ev:1") as address:
            proc = produce(address, "ev", b'{"id":12345678901234567890123,"f":1e400,"s":"1e400 \\" x"}\n[1e400, 2]\n')
            self.assertEqual(proc.returncode, 0, proc.stderr.decode())
            producer = KafkaProducer(bootstrap_servers=address, api_version=(2, 5, 0))
            for raw in (b"[1e400, }", b"[01]", b"[1e400 2]"):  # not JSON: strings
                producer.send("ev", value=raw)
            producer.flush()
            producer.close()
            proc = subprocess.run([SLUICE, "consume", "--topic", "ev", "--bootstrap-server", address,
                                   "--from-beginning", "--count", "5"], capture_output=True, timeout=60)
            self.assertEqual(proc.returncode, 0, proc.stderr.decode())
            lines = proc.stdout.decode().splitlines()
            self.assertIn('"value":{"id":12345678901234567890123,"f":1e400,"s":"1e400 \\" x"}}', lines[0])
            self.assertIn('"value":[1e400, 2]}', lines[1])
            self.assertEqual([json.loads(line)["value"] for line in lines[2:]], ["[1e400, }", "[01]", "[1e400 2]"])


class ClosedStdin(TempDirTest):
    def test_a_closed_stdin_is_an_error_not_a_hang(self):
        # fd 0 closed: the next file opened would take its number.
        with broker("ev:1") as address:
            proc = subprocess.run([SLUICE, "produce", "--topic", "ev", "--bootstrap-server", address],
                                  capture_output=True, timeout=60, preexec_fn=lambda: os.close(0))
            self.assertEqual(proc.returncode, 2, proc.stderr.decode())
            self.assertIn("stdin is not open", proc.stderr.decode())
            self.assertEqual(values(address, "ev"), [])


class Arguments(TempDirTest):
    def test_count_zero_or_negative_is_refused(self):
        for count in ("0", "-1", "x"):
            proc = subprocess.run([SLUICE, "consume", "--topic", "ev", "--bootstrap-server", "127.0.0.1:1",
                                   "--count", count], capture_output=True, timeout=60)
            self.assertEqual(proc.returncode, 2, proc.stderr.decode())
            self.assertIn("must be a whole number of at least 1", proc.stderr.decode())

    def test_invalid_topic_names_are_refused_before_anything_is_produced(self):
        with broker("ev:1") as address:
            for topic in ("bad topic", "x" * 250, "..", "a/b"):
                proc = produce(address, topic, b'{"n":1}\n')
                self.assertEqual(proc.returncode, 2, proc.stderr.decode())
                self.assertIn("--topic", proc.stderr.decode())
                proc, lines = consume(address, topic, "--count", "1", timeout=60)
                self.assertEqual(proc.returncode, 2, proc.stderr.decode())
            self.assertEqual(produce(address, "ok.topic_name-1", b'{"n":1}\n').returncode, 0)


class ProduceInput(TempDirTest):
    def test_a_byte_order_mark_before_the_first_line_is_dropped(self):
        with broker("ev:1") as address:
            proc = produce(address, "ev", b'\xef\xbb\xbf{"n":1}\n\xef\xbb\xbf{"n":2}\n')
            err = proc.stderr.decode()
            self.assertEqual(proc.returncode, 0, err)
            self.assertIn("2 line(s) read: 1 emitted, 1 bad (skipped)", err)  # only before line 1
            self.assertIn("input line 2: not valid JSON", err)
            self.assertEqual(values(address, "ev"), [{"n": 1}])


class EventsEdges(unittest.TestCase):
    def setUp(self):
        self.pg = Postgres()

    def tearDown(self):
        self.pg.close()

    def test_scalars_are_rejected_with_a_reason_wide_numbers_kept(self):
        with open(os.path.join(SOURCE_DIR, "pipelines/events.sql"), encoding="utf-8") as f:
            self.pg.sql(f.read())
        events = "\n".join([
            '3', '"x"', 'null', '[1]',
            '{"type":"big","time":"2026-12-01T10:00:00Z","n":123456789012345678901234567890,"f":1e400}',
            '{"type":"dup","type":"last","time":"2026-12-01T10:01:00Z"}',
        ]) + "\n"
        env = child_env({"PG_URI": self.pg.dsn})
        proc = subprocess.run([SLUICE, "run", os.path.join(SOURCE_DIR, "pipelines/events.toml"), "--progress", "0s"],
                              input=events, capture_output=True, text=True, env=env, timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        rows = self.pg.sql("SELECT event_type, payload->>'n', payload->>'f' FROM events ORDER BY event_time")
        self.assertEqual(rows[0][:2], ["big", "123456789012345678901234567890"])
        self.assertEqual(rows[1][0], "last")  # a key given twice: the last one, as jsonb keeps it
        rejects = self.pg.sql("SELECT convert_from(raw_value, 'UTF8'), reason FROM sluice_rejects ORDER BY \"offset\"")
        self.assertEqual([r[0] for r in rejects], ["3", '"x"', "null", "[1]"])
        for r in rejects:
            self.assertIn("expected a JSON object", r[1])


if __name__ == "__main__":
    unittest.main()
