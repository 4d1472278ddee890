"""pipelines/events.toml end to end into PostgreSQL: the README's three
commands (create the table, pipe three events into `sluice run`, select
three rows), and bad events in the rejects table with their reasons."""
import os
import subprocess
import unittest

from harness import SLUICE, SOURCE_DIR, child_env, run
from pg import Postgres


def readme_example():
    """The README's example, command for command, read from the README itself
    (the first sh block under "### Events from stdin"), so the two cannot drift;
    `sluice` is the binary under test."""
    with open(os.path.join(SOURCE_DIR, "README.md"), encoding="utf-8") as f:
        text = f.read()
    section = text[text.index("### Events from stdin"):]
    start = section.index("```sh\n") + len("```sh\n")
    return section[start:section.index("```", start)]


class EventsPipeline(unittest.TestCase):
    def setUp(self):
        self.pg = Postgres()
        self.env = child_env({"PG_URI": self.pg.dsn, "TZ": "UTC", "PGTZ": "UTC",
                              "PATH": os.path.dirname(os.path.abspath(SLUICE)) + os.pathsep + os.environ["PATH"]})

    def tearDown(self):
        self.pg.close()

    def shell(self, script, stdin=None):
        return subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=SOURCE_DIR, env=self.env,
                              input=stdin, capture_output=True, text=True, timeout=300)

    def test_check_offline_passes(self):
        proc = run("check", os.path.join(SOURCE_DIR, "pipelines/events.toml"), "--offline", env={"PG_URI": self.pg.dsn})
        self.assertEqual(proc.returncode, 0, proc.stderr)

    def test_readme_example_three_events_three_rows(self):
        example = readme_example()
        self.assertIn("| sluice run pipelines/events.toml", example)
        proc = self.shell(example)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("(3 rows)", proc.stdout)
        self.assertIn("signup", proc.stdout)
        rows = self.pg.sql("SELECT event_type, event_time AT TIME ZONE 'UTC', payload->>'user', "
                           "payload->'device'->>'os', payload FROM events ORDER BY event_time")
        self.assertEqual([r[:4] for r in rows], [
            ["signup", "2026-12-01 10:00:00", "ana", ""],
            ["login", "2026-12-01 10:05:00", "ana", "linux"],
            ["logout", "2026-12-01 10:15:00", "ana", ""],
        ])
        # The payload is the event as it came, whole.
        self.assertEqual(rows[2][4], '{"time": 1796120100, "type": "logout", "user": "ana"}')
        self.assertEqual(self.pg.scalar("SELECT count(*) FROM sluice_rejects"), "0")

    def test_bad_events_go_to_rejects_with_a_reason(self):
        self.assertEqual(self.shell('psql "$PG_URI" -q -f pipelines/events.sql').returncode, 0)
        events = "\n".join([
            '{"type":"signup","time":"2026-12-01T10:00:00Z"}',
            '{"time":"2026-12-01T10:01:00Z","user":"no type"}',
            '{"type":"login","time":"yesterday"}',
            '{"type":null,"time":"2026-12-01T10:02:00Z"}',
            'not json at all',
            '{"type":"logout","time":"2026-12-01T10:03:00Z"}',
        ]) + "\n"
        proc = self.shell("sluice run pipelines/events.toml", stdin=events)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("input line 5: not valid JSON", proc.stderr)
        self.assertEqual(self.pg.sql("SELECT event_type FROM events ORDER BY event_time"), [["signup"], ["logout"]])
        rejects = self.pg.sql("SELECT convert_from(raw_value, 'UTF8'), reason FROM sluice_rejects ORDER BY \"offset\"")
        self.assertEqual(len(rejects), 3, rejects)
        self.assertIn('"user":"no type"', rejects[0][0])
        self.assertEqual(rejects[0][1], "missing field `type` (column event_type)")
        self.assertIn("yesterday", rejects[1][0])
        self.assertIn("is not an ISO 8601 date/time", rejects[1][1])
        self.assertIn('"type":null', rejects[2][0])
        self.assertIn("event_type", rejects[2][1])  # PostgreSQL's NOT NULL violation, row isolated


if __name__ == "__main__":
    unittest.main()
