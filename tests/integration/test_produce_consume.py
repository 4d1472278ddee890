"""`sluice produce` and `sluice consume` against a standalone `sluice broker`:
bad lines reported by number and skipped (or, with --strict, the end of the
run), keys, empty, huge and binary input, records printed back as JSON lines,
consumer groups, and an unreachable broker."""
import json
import os
import select
import signal
import subprocess
import time
import unittest

from harness import SLUICE, TempDirTest, broker, closed_port, process, run, wait_for


def produce(address, topic, data, *args, timeout=120):
    """Runs `sluice produce` with `data` (bytes) on stdin."""
    return subprocess.run([SLUICE, "produce", "--topic", topic, "--bootstrap-server", address, *args], input=data,
                          capture_output=True, timeout=timeout)


def consume(address, topic, *args, timeout=120):
    proc = subprocess.run([SLUICE, "consume", "--topic", topic, "--bootstrap-server", address, *args],
                          capture_output=True, timeout=timeout)
    lines = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    return proc, lines


def end_offsets(address, topic, partitions=1):
    """The topic's end offsets, from the broker's metadata (kafka-python here
    cannot decompress the lz4 batches sluice produces, so it reads no values)."""
    from kafka import KafkaConsumer, TopicPartition
    consumer = KafkaConsumer(bootstrap_servers=address, api_version=(2, 5, 0))
    try:
        ends = consumer.end_offsets([TopicPartition(topic, p) for p in range(partitions)])
        return [ends[TopicPartition(topic, p)] for p in range(partitions)]
    finally:
        consumer.close()


def records(address, topic, partitions=1):
    """Every record of the topic, read back with `sluice consume` up to its end offsets."""
    total = sum(end_offsets(address, topic, partitions))
    if total == 0:
        return []
    proc, lines = consume(address, topic, "--from-beginning", "--count", str(total))
    if proc.returncode != 0:
        raise AssertionError(proc.stderr.decode())
    return lines


def values(address, topic, partitions=1):
    return [line["value"] for line in records(address, topic, partitions)]


class Produce(TempDirTest):
    def test_a_bad_line_is_reported_by_number_and_skipped_the_rest_delivered(self):
        data = b'{"id":"a","n":1}\r\n{"id":"b","n":2}\n{"id":"c", oops}\n\n   \n{"id":"d","n":4}\n{"id":"e","n":5}'
        with broker("ev:1") as address:
            proc = produce(address, "ev", data, "--key-field", "id")
            err = proc.stderr.decode()
            self.assertEqual(proc.returncode, 0, err)
            self.assertIn("input line 3: not valid JSON (column ", err)
            self.assertIn('`{"id":"c", oops}`', err)
            self.assertIn("7 line(s) read: 4 emitted, 1 bad (skipped), 2 empty", err)
            self.assertIn("produce: 4 record(s) to `ev`: 4 delivered, 0 failed", err)
            lines = records(address, "ev")
            self.assertEqual([line["value"]["n"] for line in lines], [1, 2, 4, 5])
            self.assertEqual([line["key"] for line in lines], ["a", "b", "d", "e"])

    def test_strict_stops_at_the_first_bad_line_with_exit_2(self):
        data = b'{"n":1}\n{"n":2}\n[1,\n{"n":4}\n'
        with broker("ev:1") as address:
            proc = produce(address, "ev", data, "--strict")
            err = proc.stderr.decode()
            self.assertEqual(proc.returncode, 2, err)
            self.assertIn("input line 3: not valid JSON", err)
            self.assertIn("strict: stopping at the first bad line", err)
            self.assertEqual(values(address, "ev"), [{"n": 1}, {"n": 2}])

    def test_empty_input_produces_nothing_and_succeeds(self):
        with broker("ev:1") as address:
            proc = produce(address, "ev", b"")
            self.assertEqual(proc.returncode, 0, proc.stderr.decode())
            self.assertIn("produce: 0 record(s) to `ev`: 0 delivered, 0 failed", proc.stderr.decode())
            self.assertEqual(values(address, "ev"), [])

    def test_a_line_over_the_cap_is_reported_not_buffered(self):
        huge = b'{"big":"' + b"x" * (3 << 20) + b'"}'
        with broker("ev:1") as address:
            proc = produce(address, "ev", b'{"n":1}\n' + huge + b'\n{"n":3}\n')
            err = proc.stderr.decode()
            self.assertEqual(proc.returncode, 0, err)
            self.assertIn("input line 2: longer than max_line_bytes (1048576 bytes), skipped unread", err)
            self.assertLess(max(len(line) for line in err.splitlines()), 1000)
            proc = produce(address, "ev", b'{"n":4,"pad":"' + b"y" * 2000 + b'"}\n{"n":5}\n', "--max-line-bytes", "1KB")
            self.assertIn("input line 1: longer than max_line_bytes (1024 bytes)", proc.stderr.decode())
            self.assertEqual(values(address, "ev"), [{"n": 1}, {"n": 3}, {"n": 5}])

    def test_binary_garbage_is_skipped_escaped_and_bounded_in_the_log(self):
        garbage = b"\xff\xfe\x00{}\n" + bytes((i * 7919 + 13) % 256 for i in range(300_000)) + b"\n"
        with broker("ev:1") as address:
            proc = produce(address, "ev", b'{"n":1}\n' + garbage + b'{"n":2}\n')
            err = proc.stderr.decode()  # escaped: the log is valid UTF-8 text
            self.assertEqual(proc.returncode, 0, err)
            reported = [line for line in err.splitlines() if "not valid JSON" in line or "longer than" in line]
            self.assertTrue(reported)
            self.assertEqual(len(reported), 100)
            self.assertLess(max(len(line) for line in err.splitlines()), 1000)
            self.assertTrue("input line 2: not valid JSON (column 1: invalid UTF-8): `\\xff\\xfe\\x00{}`" in err,
                            reported[:3])
            self.assertIn("further ones are skipped and counted", err)
            self.assertEqual(values(address, "ev"), [{"n": 1}, {"n": 2}])

    def test_invalid_utf8_is_a_bad_line_with_its_column(self):
        with broker("ev:1") as address:
            proc = produce(address, "ev", b'{"s":"caf\xc3"}\n{"s":"caf\xc3\xa9"}\n   {"s":"\xff"}\n')
            err = proc.stderr.decode()
            self.assertIn("input line 1: not valid JSON (column 10: invalid UTF-8)", err)
            self.assertIn("input line 3: not valid JSON (column 10: invalid UTF-8)", err)  # leading spaces count
            self.assertEqual(values(address, "ev"), [{"s": "café"}])

    def test_kafka_settings_from_a_pipeline_file(self):
        with broker("ev:1") as address:
            path = self.write("k.toml", f'[kafka]\nbootstrap_servers = "{address}"\nclient_id = "from-file"\n'
                                        '[[sinks]]\ntype = "stdout"\ntopic = "ev"\n')
            proc = subprocess.run([SLUICE, "produce", "--topic", "ev", "-c", path], input=b'{"n":1}\n',
                                  capture_output=True, timeout=120)
            self.assertEqual(proc.returncode, 0, proc.stderr.decode())
            self.assertEqual(values(address, "ev"), [{"n": 1}])

    def test_unreachable_broker_is_a_clear_error_not_a_hang(self):
        with closed_port() as port:
            started = time.monotonic()
            proc = produce(f"127.0.0.1:{port}", "ev", b'{"n":1}\n', "--timeout", "2s", timeout=60)
            self.assertEqual(proc.returncode, 1, proc.stderr.decode())
            self.assertIn(f"error: no answer from the Kafka cluster at 127.0.0.1:{port} within 2s",
                          proc.stderr.decode())
            proc, lines = consume(f"127.0.0.1:{port}", "ev", "--timeout", "2s", timeout=60)
            self.assertEqual(proc.returncode, 1, proc.stderr.decode())
            self.assertIn(f"error: no answer from the Kafka cluster at 127.0.0.1:{port}", proc.stderr.decode())
            self.assertEqual(lines, [])
            self.assertLess(time.monotonic() - started, 50)

    def test_sigterm_while_stdin_is_silent_stops_it_cleanly(self):
        with broker("ev:1") as address:
            p = subprocess.Popen([SLUICE, "produce", "--topic", "ev", "--bootstrap-server", address],
                                 stdin=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                p.stdin.write(b'{"n":1}\n')
                p.stdin.flush()  # the pipe stays open: the source waits for more
                wait_for(lambda: end_offsets(address, "ev") == [1], what="the first record delivered")
                p.send_signal(signal.SIGTERM)
                self.assertEqual(p.wait(timeout=30), 0)
                self.assertIn(b"produce: 1 record(s) to `ev`: 1 delivered, 0 failed", p.stderr.read())
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait()
                p.stdin.close()
                p.stderr.close()

    def test_embedded_is_refused(self):
        proc = produce("embedded", "ev", b"")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("run `sluice broker`", proc.stderr.decode())


    def test_a_pipeline_with_two_stdin_sources_is_refused(self):
        path = self.write("p.toml", '[[sources]]\nname = "a"\ntype = "stdin"\ntopic = "t"\n'
                                    '[[sources]]\nname = "b"\ntype = "stdin"\ntopic = "t"\n'
                                    '[[sinks]]\ntype = "stdout"\ntopic = "t"\n')
        proc = run("run", path, "--progress", "0s", timeout=60)
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("another `stdin` source already reads standard input", proc.stderr)


class Consume(TempDirTest):
    def test_records_are_printed_back_with_their_coordinates(self):
        with broker("ev:2") as address:
            before = int(time.time() * 1000)
            proc = produce(address, "ev", b'{"id":"a","n":1}\n{"id":"b","n":2}\n{"id":"c","n":3}\n',
                           "--key-field", "id")
            self.assertEqual(proc.returncode, 0, proc.stderr.decode())
            proc, lines = consume(address, "ev", "--from-beginning", "--count", "3")
            self.assertEqual(proc.returncode, 0, proc.stderr.decode())
            self.assertEqual(sorted(line["key"] for line in lines), ["a", "b", "c"])
            for line in lines:
                self.assertEqual(set(line), {"topic", "partition", "offset", "key", "timestamp", "value"})
                self.assertEqual(line["topic"], "ev")
                self.assertIn(line["partition"], (0, 1))
                self.assertEqual(line["value"]["id"], line["key"])
                self.assertGreaterEqual(line["timestamp"], before - 60_000)
            by_partition = {}
            for line in lines:
                by_partition.setdefault(line["partition"], []).append(line["offset"])
            for offsets in by_partition.values():
                self.assertEqual(offsets, list(range(len(offsets))))

    def test_values_that_are_not_json_are_strings_and_bytes_are_kept(self):
        from kafka import KafkaProducer
        with broker("raw:1") as address:
            producer = KafkaProducer(bootstrap_servers=address, api_version=(2, 5, 0))
            producer.send("raw", key=b"\xffk", value=b"plain text")
            producer.send("raw", value=b"\xff\xfe\x00 bin\n")
            producer.send("raw", value=b'{"pretty":\n  true}')
            producer.flush()
            producer.close()
            proc, lines = consume(address, "raw", "--from-beginning", "--count", "3")
            self.assertEqual(proc.returncode, 0, proc.stderr.decode())
            self.assertEqual(lines[0]["value"], "plain text")
            self.assertEqual(lines[0]["key"], "\ufffdk")
            self.assertEqual(lines[0]["key_base64"], "/2s=")
            self.assertEqual(lines[1]["key"], None)
            self.assertEqual(lines[1]["value"], "\ufffd\ufffd\x00 bin\n")
            self.assertEqual(lines[1]["value_base64"], "//4AIGJpbgo=")
            self.assertEqual(lines[2]["value"], {"pretty": True})

    def test_without_group_nothing_is_committed_with_group_it_resumes(self):
        with broker("ev:1") as address:
            data = b"".join(b'{"n":%d}\n' % i for i in range(6))
            self.assertEqual(produce(address, "ev", data).returncode, 0)
            for _ in range(2):  # no group: each run starts over
                proc, lines = consume(address, "ev", "--from-beginning", "--count", "2")
                self.assertEqual([line["offset"] for line in lines], [0, 1], proc.stderr.decode())
            proc, lines = consume(address, "ev", "--from-beginning", "--count", "2", "--group", "g")
            self.assertEqual([line["offset"] for line in lines], [0, 1], proc.stderr.decode())
            proc, lines = consume(address, "ev", "--from-beginning", "--count", "2", "--group", "g")
            self.assertEqual([line["offset"] for line in lines], [2, 3], proc.stderr.decode())

    def test_sigterm_stops_it_cleanly(self):
        with broker("ev:1") as address:
            self.assertEqual(produce(address, "ev", b'{"n":1}\n').returncode, 0)
            with process("consume", "--topic", "ev", "--bootstrap-server", address, "--from-beginning") as p:
                ready, _, _ = select.select([p.proc.stdout], [], [], 60)
                self.assertTrue(ready, p.stderr_text())
                self.assertEqual(json.loads(p.proc.stdout.readline())["value"], {"n": 1})
                p.signal(signal.SIGTERM)
                self.assertEqual(p.wait(timeout=30), 0, p.stderr_text())
                self.assertIn("consume: 1 record(s) printed from `ev`, no offsets committed", p.stderr_text())


if __name__ == "__main__":
    unittest.main()
