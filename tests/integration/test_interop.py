"""An independent Kafka client (kafka-python) talks to `sluice broker`, both ways."""
import json
import os
import subprocess

from kafka import KafkaProducer

from harness import TempDirTest, broker, read_json_lines, read_topic, run


class Interop(TempDirTest):
    def test_kafka_python_produces_and_sluice_consumes(self):
        out = os.path.join(self.dir, "out.jsonl")
        path = self.write("p.toml", f"""
[kafka]
bootstrap_servers = "${{KAFKA_BOOTSTRAP}}"
[[sinks]]
type = "file"
topic = "from_python"
path = "{out}"
""")
        with broker("from_python:3") as address:
            producer = KafkaProducer(bootstrap_servers=address, api_version=(2, 5, 0))
            for i in range(300):
                producer.send("from_python", key=str(i % 7).encode(), value=json.dumps({"i": i}).encode())
            producer.flush(timeout=120)
            producer.close()
            run("run", path, "--only", "sinks", "--exit-after", "300", env={"KAFKA_BOOTSTRAP": address}, check=0)
        self.assertEqual(sorted(r["i"] for r in read_json_lines(out)), list(range(300)))

    def test_sluice_produces_and_kafka_python_consumes_with_keys(self):
        path = self.write("p.toml", """
[kafka]
bootstrap_servers = "${KAFKA_BOOTSTRAP}"
compression = "gzip"
[[sources]]
type = "random_routes"
topic = "to_python"
key = "user_id"
count = 500
""")
        with broker("to_python:4") as address:
            run("run", path, "--only", "sources", env={"KAFKA_BOOTSTRAP": address}, check=0)
            records = read_topic(address, "to_python", 4)
        self.assertEqual(sorted(json.loads(m.value)["seq"] for m in records), list(range(500)))
        for m in records:
            self.assertEqual(m.key.decode(), str(json.loads(m.value)["user_id"]))

    def test_kcat_lists_the_broker_metadata(self):
        with broker("listed:5") as address:
            meta = subprocess.run(["kcat", "-b", address, "-L", "-J"], capture_output=True, text=True,
                                  timeout=120, check=True)
        topics = {t["topic"]: t for t in json.loads(meta.stdout)["topics"]}
        self.assertEqual(len(topics["listed"]["partitions"]), 5)
