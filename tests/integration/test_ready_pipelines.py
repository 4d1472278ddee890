"""Every ready pipeline in pipelines/ is one a user can copy: it starts with
a comment saying what it does, passes `sluice check --offline`, has its SQL
beside it when it writes to PostgreSQL, and the README walks through it."""
import glob
import os
import re
import unittest

from harness import SOURCE_DIR, TempDirTest, run
from test_check_connect import make_ca_and_server_cert


class ReadyPipelines(TempDirTest):
    def pipelines(self):
        found = sorted(glob.glob(os.path.join(SOURCE_DIR, "pipelines", "*.toml")))
        self.assertGreaterEqual(len(found), 7, found)
        return found

    def env(self):
        # managed.toml names PEM files for TLS: check loads them, as run does.
        make_ca_and_server_cert(self.dir, "svc")
        return {"PG_URI": "host=127.0.0.1 port=1 dbname=x", "KAFKA_BOOTSTRAP": "127.0.0.1:9",
                "KAFKA_CA": os.path.join(self.dir, "svc-ca.pem"),
                "KAFKA_CERT": os.path.join(self.dir, "svc-server.pem"),
                "KAFKA_KEY": os.path.join(self.dir, "svc-server.key"), "GITHUB_TOKEN": ""}

    def test_each_starts_with_a_comment_and_passes_check(self):
        env = self.env()
        for path in self.pipelines():
            with self.subTest(pipeline=os.path.basename(path)):
                with open(path, encoding="utf-8") as f:
                    self.assertTrue(f.readline().startswith("# "), "the first line says what it does")
                proc = run("check", "--offline", path, env=env)
                self.assertEqual(proc.returncode, 0, proc.stderr)
                self.assertIn(": ok: pipeline", proc.stdout)

    def test_each_postgres_pipeline_has_its_sql_beside_it(self):
        for path in self.pipelines():
            with self.subTest(pipeline=os.path.basename(path)):
                with open(path, encoding="utf-8") as f:
                    text = f.read()
                tables = re.findall(r'^table\s*=\s*"([^"]+)"', text, re.M)
                sql = " ".join(open(p, encoding="utf-8").read()
                               for p in glob.glob(os.path.join(SOURCE_DIR, "pipelines", "*.sql")))
                for table in tables:
                    self.assertRegex(sql, r"CREATE TABLE (IF NOT EXISTS )?" + re.escape(table) + r"\b")

    def test_the_readme_walks_through_each(self):
        with open(os.path.join(SOURCE_DIR, "README.md"), encoding="utf-8") as f:
            readme = f.read()
        for path in self.pipelines():
            name = os.path.basename(path)
            with self.subTest(pipeline=name):
                self.assertIn(f"(pipelines/{name})", readme, "linked from the README's ready pipelines table")


if __name__ == "__main__":
    unittest.main()
