"""The embedding examples of examples/embed, built in the tree against
libsluice (tests/embed/CMakeLists.txt): a C host pushing records through
the embedded broker into PostgreSQL, exactly once, and a C++ host receiving
a pipeline's records in a host sink callback; and the C example of the
README's "Embedding sluice", extracted from it at configure time."""
import os
import subprocess
import unittest

from harness import SOURCE_DIR, TempDirTest, child_env
from pg import Postgres

EXAMPLES = os.environ.get("SLUICE_EMBED_EXAMPLES", "")
EXAMPLE_SOURCES = os.path.join(SOURCE_DIR, "examples", "embed")


def example(name):
    path = os.path.join(EXAMPLES, name)
    if not os.access(path, os.X_OK):
        raise AssertionError(f"no built example {path} (SLUICE_EMBED_EXAMPLES={EXAMPLES!r}): "
                             "build with -DSLUICE_TESTS=ON and run through ctest")
    return path


def run_example(name, *args, env=None, timeout=900):
    proc = subprocess.run([example(name), *args], capture_output=True, text=True, timeout=timeout,
                          env=child_env(env), cwd=EXAMPLE_SOURCES)
    return proc


class PushToPostgres(TempDirTest):
    def setUp(self):
        super().setUp()
        self.pg = Postgres()
        self.addCleanup(self.pg.close)
        with open(os.path.join(EXAMPLE_SOURCES, "push_to_postgres.sql")) as f:
            self.pg.sql(f.read())

    def test_100000_pushed_records_arrive_exactly_once(self):
        proc = run_example("push_to_postgres", "push_to_postgres.toml", "100000", env={"PG_URI": self.pg.dsn})
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("100000 rows, 100000 distinct ids (0..99999), expected 100000: every id exactly once",
                      proc.stdout)
        # The database says the same, independently of the program's own check.
        self.assertEqual(self.pg.sql("SELECT count(*), count(DISTINCT id), min(id), max(id),"
                                     " count(DISTINCT run) FROM embed_events"),
                         [["100000", "100000", "0", "99999", "1"]])
        self.assertEqual(self.pg.scalar("SELECT count(*) FROM sluice_rejects"), "0")

    def test_a_second_run_checks_only_its_own_records(self):
        for _ in range(2):
            proc = run_example("push_to_postgres", "push_to_postgres.toml", "1000", env={"PG_URI": self.pg.dsn})
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertEqual(self.pg.sql("SELECT count(*), count(DISTINCT run) FROM embed_events"), [["2000", "2"]])

    def test_missing_table_is_a_start_error(self):
        self.pg.sql("DROP TABLE embed_events")
        proc = run_example("push_to_postgres", "push_to_postgres.toml", "10", env={"PG_URI": self.pg.dsn})
        self.assertNotEqual(proc.returncode, 0, proc.stdout)
        self.assertIn("embed_events", proc.stderr)
        self.assertNotIn("exactly once", proc.stdout)

    def test_without_conninfo_it_says_how_to_call_it(self):
        proc = run_example("push_to_postgres", env={"PG_URI": ""})
        self.assertEqual(proc.returncode, 2)
        self.assertIn("usage: PG_URI=conninfo", proc.stderr)


class SinkCallback(unittest.TestCase):
    def test_every_record_reaches_the_callback_in_offset_order(self):
        proc = run_example("sink_callback", "50000")
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("received 50000 records", proc.stdout)
        self.assertIn("from 4 partitions, expected 50000; missing 0, duplicates 0, unexpected 0,"
                      " offsets out of order 0: ok", proc.stdout)


class ReadmeExample(unittest.TestCase):
    def test_the_readme_example_runs_and_gets_its_1000_records(self):
        proc = run_example("readme_example")
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertEqual(proc.stdout, "received 1000 records\n")


if __name__ == "__main__":
    unittest.main()
