"""Helpers for sluice's integration tests: run the real binary, start a
standalone embedded broker, wait on conditions (never on bare sleeps)."""
import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import tempfile
import time
import unittest

SLUICE = os.environ.get("SLUICE_BIN", "sluice")
PLUGINS = os.environ.get("SLUICE_EXAMPLE_PLUGINS", "")
SOURCE_DIR = os.environ.get("SLUICE_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))


def wait_for(condition, timeout=60.0, what="condition"):
    """Polls `condition` until it returns a true value; fails after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


# Where pipelines find their broker and database: a test names them itself.
# Inherited from the shell that runs the tests, they would point its
# pipelines at whatever that shell had (a broker long gone, say).
INHERITED_ONLY_IF_GIVEN = ("KAFKA_BOOTSTRAP", "PG_URI")


def child_env(env=None):
    """The environment of a sluice a test starts: this one, without the
    addresses above unless `env` gives them, updated with `env`."""
    full_env = {k: v for k, v in os.environ.items() if k not in INHERITED_ONLY_IF_GIVEN}
    full_env.update(env or {})
    return full_env


def run(*args, env=None, timeout=120, check=None):
    """Runs sluice to completion; returns CompletedProcess with text output."""
    full_env = child_env(env)
    try:
        proc = subprocess.run([SLUICE, *args], capture_output=True, text=True, env=full_env, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        # What it said before it was killed is what tells why it hung: shown
        # with the traceback, and the exception stays what callers catch.
        said = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
        e.add_note(f"its stderr:\n{said}")
        raise
    if check is not None and proc.returncode != check:
        raise AssertionError(f"sluice {' '.join(args)} exited {proc.returncode}, wanted {check}\n"
                             f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc


class Process:
    """A sluice process in the background; always stopped on exit."""

    def __init__(self, *args, env=None, stdout=None):
        full_env = child_env(env)
        self.stderr = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen([SLUICE, *args], stdout=stdout or subprocess.PIPE, stderr=self.stderr,
                                     text=True, env=full_env)

    def stderr_text(self):
        self.stderr.seek(0)
        return self.stderr.read()

    def wait(self, timeout=120):
        return self.proc.wait(timeout=timeout)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            # A test that failed while the process was frozen (SIGSTOP) would
            # otherwise wait out the whole grace period below.
            self.proc.send_signal(signal.SIGCONT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
        self.stderr.close()


@contextlib.contextmanager
def process(*args, env=None, stdout=None):
    p = Process(*args, env=env, stdout=stdout)
    try:
        yield p
    finally:
        p.stop()


@contextlib.contextmanager
def broker(*topics):
    """A standalone `sluice broker`; yields its bootstrap address."""
    args = ["broker"]
    if topics:
        args += ["--topics", ",".join(topics)]
    with process(*args) as p:
        # Generous, and only a guard: a broker that never prints must fail the
        # test rather than hang it.
        ready, _, _ = select.select([p.proc.stdout], [], [], 120)
        line = p.proc.stdout.readline().strip() if ready else ""
        if not line:
            raise AssertionError("sluice broker printed no address:\n" + p.stderr_text())
        yield line


@contextlib.contextmanager
def closed_port():
    """A loopback port where connections are refused, for as long as the block
    runs: the socket is bound but never listens, so no other process (another
    test's server, a PostgreSQL picking a free port) can take the port meanwhile."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]


def read_topic(address, topic, partitions, timeout=120):
    """Every message of `topic` (partitions 0..partitions-1) up to its end
    offsets at the time of the call, read with kafka-python. It reads until it
    has reached those offsets, not until the broker has been quiet for a
    while, so a slow machine cannot make it stop early."""
    from kafka import KafkaConsumer, TopicPartition
    consumer = KafkaConsumer(bootstrap_servers=address, api_version=(2, 5, 0), auto_offset_reset="earliest",
                             enable_auto_commit=False)
    try:
        assigned = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(assigned)
        ends = consumer.end_offsets(assigned)
        messages = []
        deadline = time.monotonic() + timeout
        while any(consumer.position(tp) < end for tp, end in ends.items()):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s reading {topic} up to {ends}")
            for batch in consumer.poll(timeout_ms=500).values():
                messages.extend(batch)
        return messages
    finally:
        consumer.close()


def read_json_lines(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


class TempDirTest(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="sluice-test-")
        self.dir = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path
