"""pipelines/website_checks.toml end to end: http_checker -> Kafka ->
PostgreSQL. Every check the checker counts is one row, with its fields typed."""
import contextlib
import os
import re
import signal
import subprocess

from harness import SOURCE_DIR, TempDirTest, broker, closed_port, process, run, wait_for
from pg import Postgres
from test_http_checker import Server

TARGETS = """
[[targets]]
name = "missing"
url = "http://127.0.0.1:{port}/404"

[[targets]]
name = "down"
url = "http://127.0.0.1:{refused}/"
interval = "700ms"

[[targets]]
name = "head"
url = "http://127.0.0.1:{port}/ok"
method = "HEAD"
"""


class WebsiteChecksPipeline(TempDirTest):
    def setUp(self):
        super().setUp()
        self.pg = Postgres()
        self.addCleanup(self.pg.close)
        with open(os.path.join(SOURCE_DIR, "pipelines", "website_checks.sql")) as f:
            self.pg.sql(f.read())
        self.http = Server()
        self.addCleanup(self.http.close)

    def rows(self):
        return int(self.pg.scalar("SELECT count(*) FROM website_checks"))

    def test_every_check_is_one_row(self):
        pipeline = os.path.join(SOURCE_DIR, "pipelines", "website_checks.toml")
        held = contextlib.ExitStack()  # the refused port stays closed to others until the test ends
        self.addCleanup(held.close)
        refused = held.enter_context(closed_port())
        targets = self.write("targets.toml", TARGETS.format(port=self.http.port, refused=refused))
        with broker("website_checks:4") as address:
            env = {"PG_URI": self.pg.dsn, "KAFKA_BOOTSTRAP": address, "KAFKA_SESSION_TIMEOUT_MS": "6000",
                   "CHECK_URL": f"http://127.0.0.1:{self.http.port}/ok", "CHECK_REGEX": "Hello\\s+World",
                   "CHECK_TARGETS_FILE": targets, "CHECK_INTERVAL": "500ms"}
            with process("run", pipeline, "--progress", "0s", env=env, stdout=subprocess.DEVNULL) as p:
                wait_for(lambda: self.rows() >= 20, timeout=90, what="rows in website_checks")
                p.signal(signal.SIGTERM)
                self.assertEqual(p.wait(timeout=60), 0, p.stderr_text())
                log = p.stderr_text()
            m = re.search(r"checker: summary: checks: (\d+)", log)
            self.assertTrue(m, log)
            checks = int(m.group(1))
            # The stop finishes the sink's batch in hand; a sink-only run stores the rest.
            rest = checks - self.rows()
            self.assertGreaterEqual(rest, 0)
            if rest:
                run("run", pipeline, "--only", "sinks", "--exit-after", str(rest), "--progress", "0s", env=env,
                    check=0)
        self.assertEqual(self.rows(), checks)
        self.assertEqual(self.pg.scalar("SELECT count(*) FROM sluice_rejects"), "0")

        by_target = {r[0]: r[1:] for r in self.pg.sql(
            "SELECT DISTINCT ON (target) target, method, status, regex, regex_matched, error, "
            "ttfb_ms IS NULL, bytes, checked_at > now() - interval '5 minutes' FROM website_checks "
            "ORDER BY target, id")}
        ok = f"http://127.0.0.1:{self.http.port}/ok"
        self.assertEqual(by_target[ok], ["GET", "200", "Hello\\s+World", "t", "", "f", "39", "t"])
        self.assertEqual(by_target["missing"][1], "404")
        self.assertEqual(by_target["missing"][4], "unexpected_status")
        self.assertEqual(by_target["down"][1:6], ["", "Hello\\s+World", "f", "connect_refused", "t"])
        self.assertEqual(by_target["head"][:2], ["HEAD", "200"])
        self.assertEqual(by_target["head"][5:7], ["f", "0"])
        # The checks of one URL come in the order they were made (keyed by URL).
        for (url,) in self.pg.sql("SELECT DISTINCT url FROM website_checks"):
            times = [r[0] for r in self.pg.sql(
                f"SELECT extract(epoch FROM checked_at) FROM website_checks WHERE url = '{url}' ORDER BY id")]
            self.assertEqual(times, sorted(times, key=float), url)
