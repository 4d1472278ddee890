"""Helpers for sluice's integration tests: run the real binary, start a
standalone embedded broker, wait on conditions (never on bare sleeps)."""
import contextlib
import json
import os
import signal
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


def run(*args, env=None, timeout=120, check=None):
    """Runs sluice to completion; returns CompletedProcess with text output."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    proc = subprocess.run([SLUICE, *args], capture_output=True, text=True, env=full_env, timeout=timeout)
    if check is not None and proc.returncode != check:
        raise AssertionError(f"sluice {' '.join(args)} exited {proc.returncode}, wanted {check}\n"
                             f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc


class Process:
    """A sluice process in the background; always stopped on exit."""

    def __init__(self, *args, env=None, stdout=None):
        full_env = dict(os.environ)
        full_env.update(env or {})
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
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
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
        line = p.proc.stdout.readline().strip()
        if not line:
            raise AssertionError("sluice broker printed no address:\n" + p.stderr_text())
        yield line


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
