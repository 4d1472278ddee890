"""A real Prometheus (Debian's package) scrapes a running sluice every second:
what it stores for the PostgreSQL sink is what the table holds, its rate is
above 0 while records flow, and promtool finds nothing wrong in a scrape."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest
import urllib.parse
import urllib.request

from harness import TempDirTest, broker, process, wait_for
from pg import Postgres, free_port

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"

TABLE = """CREATE TABLE routes (seq bigint NOT NULL, user_id integer NOT NULL, ts timestamptz NOT NULL,
  lat double precision NOT NULL, lon double precision NOT NULL)"""

PIPELINE = """
name = "promtest"
[kafka]
bootstrap_servers = "${{KAFKA_BOOTSTRAP}}"
librdkafka = {{ "session.timeout.ms" = 6000, "heartbeat.interval.ms" = 500 }}
[http]
listen = "127.0.0.1:{http_port}"
[[sources]]
name = "routes"
type = "random_routes"
topic = "routes"
key = "user_id"
partitions = 4
count = {count}
rate = {rate}
[[sinks]]
name = "store"
type = "postgres"
topic = "routes"
conninfo = "${{PG_URI}}"
table = "routes"
batch_max_wait = "100ms"
"""

PROM_CONFIG = """
global:
  scrape_interval: 1s
  scrape_timeout: 900ms
scrape_configs:
  - job_name: sluice
    static_configs:
      - targets: ["127.0.0.1:{port}"]
"""


def http_get(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode("utf-8")


class Prometheus:
    """A Prometheus server on 127.0.0.1 with its own storage, scraping `target_port`."""

    def __init__(self, target_port):
        self.dir = tempfile.mkdtemp(prefix="sluice-prom-")
        config = os.path.join(self.dir, "prometheus.yml")
        with open(config, "w") as f:
            f.write(PROM_CONFIG.format(port=target_port))
        self.port = free_port()
        self.log = open(os.path.join(self.dir, "log"), "w+")
        self.proc = subprocess.Popen([PROMETHEUS, f"--config.file={config}",
                                      f"--storage.tsdb.path={os.path.join(self.dir, 'data')}",
                                      f"--web.listen-address=127.0.0.1:{self.port}"],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        try:
            wait_for(self.ready, timeout=120, what="Prometheus ready")
        except BaseException:
            self.close()
            raise

    def ready(self):
        if self.proc.poll() is not None:
            raise AssertionError("Prometheus exited:\n" + self.log_text())
        try:
            return http_get(f"http://127.0.0.1:{self.port}/-/ready", timeout=2)[0] == 200
        except OSError:
            return False

    def log_text(self):
        self.log.seek(0)
        return self.log.read()

    def query(self, expr):
        """The instant vector of `expr`: a list of (labels, value)."""
        url = f"http://127.0.0.1:{self.port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        doc = json.loads(http_get(url)[1])
        if doc.get("status") != "success":
            raise AssertionError(f"query {expr} failed: {doc}")
        return [(r["metric"], float(r["value"][1])) for r in doc["data"]["result"]]

    def value(self, expr):
        """The single value of `expr`, or None while Prometheus has none."""
        result = self.query(expr)
        if len(result) > 1:
            raise AssertionError(f"{expr} has {len(result)} series: {result}")
        return result[0][1] if result else None

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@unittest.skipUnless(os.path.exists(PROMETHEUS) and os.path.exists(PROMTOOL), "Debian's prometheus package")
class PrometheusScrape(TempDirTest):
    def setUp(self):
        super().setUp()
        self.pg = Postgres()
        self.addCleanup(self.pg.close)
        self.pg.sql(TABLE)

    def rows(self):
        return int(self.pg.scalar("SELECT count(*) FROM routes"))

    def test_prometheus_sees_what_the_table_holds(self):
        count = 20000
        http_port = free_port()
        path = self.write("p.toml", PIPELINE.format(http_port=http_port, count=count, rate=1000))
        # The sources' process serves on a port of its own: an explicit listen in use is an error.
        sources_path = self.write("sources.toml", PIPELINE.format(http_port=free_port(), count=count, rate=1000))
        with broker("routes:4") as bootstrap:
            env = {"KAFKA_BOOTSTRAP": bootstrap, "PG_URI": self.pg.dsn}
            # The sinks run on (and stay scraped) after the finite source is done.
            with process("run", path, "--only", "sinks", "--progress", "0s", env=env) as sinks:
                wait_for(lambda: f"http://127.0.0.1:{http_port}/" in sinks.stderr_text(), what="sluice serving")
                prom = Prometheus(http_port)
                self.addCleanup(prom.close)
                wait_for(lambda: prom.value('up{job="sluice"}') == 1, timeout=60, what="the target up")
                with process("run", sources_path, "--only", "sources", "--progress", "0s", env=env) as sources:
                    records_out = 'sluice_records_out_total{job="sluice",step="store"}'
                    # While records flow (the table still growing), the rate Prometheus computes is above 0.
                    def flowing_rate():
                        rate = prom.value(f"rate({records_out}[5s])")
                        return rate if rate and rate > 0 and self.rows() < count else None
                    rate = wait_for(flowing_rate, timeout=120, what="a rate > 0 while records flow")
                    self.assertGreater(rate, 0)
                    self.assertEqual(sources.wait(timeout=300), 0, sources.stderr_text())
                wait_for(lambda: self.rows() == count, timeout=120, what="every row stored")
                # Stored, so what a scrape sees from now on is the table's count; a few
                # scrapes (1 s each) are the bound on when Prometheus has it.
                wait_for(lambda: prom.value(records_out) == count, timeout=10,
                         what=f"Prometheus's {records_out} = {count}")
                self.assertEqual(prom.value(records_out), self.rows())
                # The same sample has the pipeline label, and Prometheus kept it.
                labels = prom.query(records_out)[0][0]
                self.assertEqual(labels["pipeline"], "promtest")
                self.assertEqual(labels["topic"], "routes")

                _, scrape = http_get(f"http://127.0.0.1:{http_port}/metrics")
                lint = subprocess.run([PROMTOOL, "check", "metrics"], input=scrape, capture_output=True, text=True)
                self.assertEqual((lint.returncode, lint.stdout + lint.stderr), (0, ""), scrape)
                self.assertRegex(scrape, r'(?m)^sluice_build_info\{pipeline="promtest",version="[^"]+"\} 1$')
                self.assertEqual(prom.value('sluice_build_info{job="sluice"}'), 1)
                self.assertGreater(prom.value('sluice_process_resident_memory_bytes{job="sluice"}'), 1e6)
