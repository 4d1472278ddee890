"""Lag and counts on /metrics against the truth in PostgreSQL and Kafka.

A PostgreSQL sink reads a standalone `sluice broker` while the test keeps
producing. With PostgreSQL stopped, its lag rises in records and in seconds,
and equals the high watermark minus the offsets its offsets table holds; once
PostgreSQL is back it falls to 0. Its records_out equals the rows in its table
and its rejects, by reason class, the rows of its rejects table."""
import json
import re
import urllib.error
import urllib.request

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from harness import TempDirTest, broker, process, wait_for
from pg import Postgres, free_port

PIPELINE = """
name = "lagged"
[kafka]
bootstrap_servers = "${{KAFKA_BOOTSTRAP}}"
[http]
listen = "127.0.0.1:{port}"
[[sinks]]
name = "store"
type = "postgres"
topic = "{topic}"
conninfo = "${{PG_URI}}"
table = "{table}"
batch_max_wait = "50ms"
{extra}
"""

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def scrape(port):
    """/metrics as a list of (name, labels dict, value)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        text = r.read().decode()
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        out.append((m.group(1), dict(LABEL.findall(m.group(2) or "")), float(m.group(3))))
    return out


def get_json(port, path):
    """(status, JSON body) of a GET, 503 included."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def total(samples, name, **labels):
    return sum(v for n, l, v in samples if n == name and all(l.get(k) == x for k, x in labels.items()))


def per_partition(samples, name):
    return {int(l["partition"]): v for n, l, v in samples if n == name and l.get("step") == "store"}


def lag_records(port, partitions):
    """The sink's lag summed over its partitions; None until every partition has one."""
    lag = per_partition(scrape(port), "sluice_sink_lag_records")
    return sum(lag.values()) if len(lag) == partitions else None


class Lag(TempDirTest):
    PARTITIONS = 2

    def setUp(self):
        super().setUp()
        self.pg = Postgres()
        self.addCleanup(self.pg.close)

    def produce(self, address, topic, ids):
        producer = KafkaProducer(bootstrap_servers=address, api_version=(2, 5, 0))
        for i in ids:
            producer.send(topic, value=json.dumps({"id": i}).encode(), partition=i % self.PARTITIONS)
        producer.flush(timeout=30)
        producer.close()

    def high_watermarks(self, address, topic):
        consumer = KafkaConsumer(bootstrap_servers=address, api_version=(2, 5, 0))
        try:
            parts = [TopicPartition(topic, p) for p in range(self.PARTITIONS)]
            return {tp.partition: end for tp, end in consumer.end_offsets(parts).items()}
        finally:
            consumer.close()

    def stored_offsets(self, topic):
        return {int(p): int(o) for p, o in
                self.pg.sql(f"SELECT partition, next_offset FROM sluice_offsets WHERE topic = '{topic}'")}

    def stored_total(self, topic):
        """The sum of the stored offsets; 0 before the sink made its table."""
        if self.pg.scalar("SELECT to_regclass('sluice_offsets') IS NOT NULL") != "t":
            return 0
        return sum(self.stored_offsets(topic).values())

    def start_sink(self, address, topic, table, extra=""):
        port = free_port()
        path = self.write(f"{table}.toml", PIPELINE.format(port=port, topic=topic, table=table, extra=extra))
        return port, process("run", path, "--progress", "0s", env={"KAFKA_BOOTSTRAP": address, "PG_URI": self.pg.dsn})

    def test_lag_rises_while_postgres_is_down_and_falls_to_zero_after(self):
        topic = table = "lagged"
        self.pg.sql(f"CREATE TABLE {table} (id bigint NOT NULL)")
        with broker(f"{topic}:{self.PARTITIONS}") as address:
            port, sink = self.start_sink(address, topic, table)
            with sink as p:
                self.produce(address, topic, range(100))
                wait_for(lambda: self.pg.scalar(f"SELECT count(*) FROM {table}") == "100", what="100 rows stored")
                wait_for(lambda: lag_records(port, self.PARTITIONS) == 0,
                         what="lag 0 once caught up")
                samples = scrape(port)
                self.assertEqual(total(samples, "sluice_records_out_total", step="store"), 100)
                self.assertEqual(set(per_partition(samples, "sluice_sink_lag_seconds").values()), {0.0})
                self.assertEqual(total(samples, "sluice_sink_state", step="store", state="up"), 1)
                stored = self.stored_offsets(topic)  # cannot change while PostgreSQL is down
                self.assertEqual(sum(stored.values()), 100)

                self.pg.stop()
                self.produce(address, topic, range(100, 150))
                wait_for(lambda: lag_records(port, self.PARTITIONS) == 50,
                         what="lag of the 50 records produced while PostgreSQL is down")
                wait_for(lambda: total(scrape(port), "sluice_sink_state", step="store", state="retrying") == 1,
                         what="the sink retrying")
                high = self.high_watermarks(address, topic)
                lag = per_partition(scrape(port), "sluice_sink_lag_records")
                self.assertEqual(lag, {q: high[q] - stored[q] for q in range(self.PARTITIONS)})
                seconds = max(per_partition(scrape(port), "sluice_sink_lag_seconds").values())
                self.assertGreater(seconds, 0)
                # Not ready while PostgreSQL is down, with a reason naming it; alive all along.
                status, ready = get_json(port, "/ready")
                self.assertEqual(status, 503, ready)
                sink = [c for c in ready["components"] if c["name"] == "store"][0]
                self.assertFalse(sink["ready"])
                self.assertIn("PostgreSQL", sink["reason"])
                self.assertEqual(get_json(port, "/health")[0], 200)

                # Still down: more records, more lag; the oldest unwritten record only ages.
                self.produce(address, topic, range(150, 250))
                wait_for(lambda: lag_records(port, self.PARTITIONS) == 150,
                         what="lag rising while the sink is stuck")
                wait_for(lambda: max(per_partition(scrape(port), "sluice_sink_lag_seconds").values()) > seconds,
                         what="lag in seconds rising")
                self.assertGreater(total(scrape(port), "sluice_sink_retries_total", step="store"), 0)

                self.pg.start()
                wait_for(lambda: self.pg.scalar(f"SELECT count(*) FROM {table}") == "250", timeout=120,
                         what="every row stored after PostgreSQL is back")
                wait_for(lambda: lag_records(port, self.PARTITIONS) == 0,
                         what="lag back to 0")
                wait_for(lambda: get_json(port, "/ready")[0] == 200, what="ready again with PostgreSQL back")
                self.assertEqual(get_json(port, "/health")[0], 200)
                samples = scrape(port)
                self.assertEqual(set(per_partition(samples, "sluice_sink_lag_seconds").values()), {0.0})
                self.assertEqual(total(samples, "sluice_sink_state", step="store", state="up"), 1)
                self.assertEqual(total(samples, "sluice_records_out_total", step="store"), 250)
                high = self.high_watermarks(address, topic)
                self.assertEqual(high, self.stored_offsets(topic))
                self.assertGreater(total(samples, "sluice_sink_backoff_seconds_total", step="store"), 0)
                self.assertGreater(total(samples, "sluice_end_to_end_latency_seconds_count", step="store"), 0)
                self.assertGreater(total(samples, "sluice_sink_reconnects_total", step="store"), 0)
                self.assertNotIn("password", p.stderr_text().lower())

    def test_records_out_and_rejects_match_the_tables(self):
        topic = table = "counted"
        # Rejects of every class the sink makes: a script's, a column's
        # (not a number), the database's (a CHECK constraint).
        self.pg.sql(f"CREATE TABLE {table} (id bigint NOT NULL CHECK (id >= 0))")
        script = self.write("validate.lua", 'function transform(r)\n'
                                            '  if r.id == 7 then return nil, "seven is refused" end\n'
                                            '  if r.id == 8 then return nil end\n'
                                            '  return r\nend\n')
        records = [{"id": i} for i in range(20)] + [{"id": "x"}, {"id": -1}, {"id": -2}]
        with broker(f"{topic}:1") as address:
            producer = KafkaProducer(bootstrap_servers=address, api_version=(2, 5, 0))
            for r in records:
                producer.send(topic, value=json.dumps(r).encode(), partition=0)
            producer.flush(timeout=30)
            producer.close()
            port, sink = self.start_sink(address, topic, table, extra=f'transforms = ["{script}"]')
            with sink:
                wait_for(lambda: self.stored_total(topic) == len(records), what="every record's offset stored")
                samples = scrape(port)
                rows = int(self.pg.scalar(f"SELECT count(*) FROM {table}"))
                self.assertEqual(rows, 18)  # 0..19 less 7 (rejected) and 8 (dropped)
                self.assertEqual(total(samples, "sluice_records_out_total", step="store"), rows)
                self.assertEqual(total(samples, "sluice_records_in_total", step="store"), len(records))
                self.assertEqual(total(samples, "sluice_records_dropped_total", step="store"), 1)
                rejects = int(self.pg.scalar("SELECT count(*) FROM sluice_rejects"))
                self.assertEqual(rejects, 4)
                self.assertEqual(total(samples, "sluice_records_rejected_total", step="store"), rejects)
                self.assertEqual(total(samples, "sluice_records_rejected_total", step="store", reason_class="transform"), 1)
                self.assertEqual(total(samples, "sluice_records_rejected_total", step="store", reason_class="column"), 1)
                self.assertEqual(total(samples, "sluice_records_rejected_total", step="store",
                                       reason_class="constraint"), 2)
                self.assertEqual(total(samples, "sluice_lua_calls_total", step="store", script="validate.lua"),
                                 len(records))
