"""Hostile Lua scripts through the real binary: budgets a script cannot
escape (pcall around an endless loop, a backtracking pattern, a JSON bomb, a
huge string.rep) end as rejects with the limit's reason while the other
records pass; `sluice check` of a script whose top level or finalizer never
ends returns promptly; SIGTERM stops a pipeline whose script is stuck."""
import json
import os
import signal
import subprocess
import time

from harness import SOURCE_DIR, TempDirTest, process, run, wait_for
from pg import Postgres

TABLE = open(os.path.join(SOURCE_DIR, "pipelines", "routes.sql")).read()

# Each hostile kind on its own records (seq % 10), the rest pass untouched.
HOSTILE = """
function transform(r)
  local kind = r.seq % 10
  if kind == 1 then  -- catches the budget error and tries again, for ever
    while true do pcall(function() while true do end end) end
  elseif kind == 3 then  -- backtracks for ever inside string.find
    string.find(string.rep("a", 40) .. "b", ("a*"):rep(20) .. "c")
  elseif kind == 5 then  -- a table sharing its sub-tables: 2^60 values of JSON
    local t = {}
    for i = 1, 60 do t = {t, t} end
    r.bomb = sluice.json.encode(t)
  elseif kind == 7 then  -- a string far past the memory cap, the error caught
    while true do pcall(string.rep, "x", 2^40) end
  elseif kind == 9 then  -- a coroutine that catches the error itself
    coroutine.wrap(function() while true do pcall(function() while true do end end) end end)()
  end
  return r
end
"""

# The bomb ends on whichever comes first: its text against the memory cap, or
# its values (each charged to the budget) against the instruction budget.
EXPECTED_REASONS = {1: ("instruction budget exceeded",), 3: ("instruction budget exceeded",),
                    5: ("memory limit exceeded", "instruction budget exceeded"),
                    7: ("memory limit exceeded",), 9: ("instruction budget exceeded",)}

# A call that never ends (within any time this test waits): the count would
# stop it only after 10^12 instructions.
STUCK = """
function transform(r)
  sluice.log("info", "stuck in seq " .. r.seq)
  while true do pcall(function() while true do end end) end
end
"""


class HostileScripts(TempDirTest):
    def test_budget_escapes_are_rejects_with_the_reason_and_the_rest_passes(self):
        pg = Postgres()
        self.addCleanup(pg.close)
        pg.sql(TABLE)
        n = 60
        script = self.write("hostile.lua", HOSTILE)
        path = self.write("p.toml", f"""
name = "hostile_lua"
[[sources]]
type = "random_routes"
topic = "routes"
partitions = 2
count = {n}
[[sinks]]
name = "store"
type = "postgres"
topic = "routes"
conninfo = "${{PG_URI}}"
table = "routes"
batch_max_rows = 10
transforms = ["{script}"]
transform_instructions = 1000000
transform_memory = "16MB"
""")
        run("run", path, "--progress", "0s", env={"PG_URI": pg.dsn}, check=0, timeout=240)
        stored = sorted(int(r[0]) for r in pg.sql("SELECT seq FROM routes"))
        self.assertEqual(stored, [s for s in range(n) if s % 2 == 0])
        rejects = {}
        for raw, reason in pg.sql("SELECT convert_from(raw_value, 'UTF8'), reason FROM sluice_rejects"):
            rejects[json.loads(raw)["seq"]] = reason
        self.assertEqual(sorted(rejects), [s for s in range(n) if s % 2 == 1])
        for seq, reason in rejects.items():
            self.assertTrue(reason.startswith("hostile.lua:"), reason)
            self.assertTrue(any(r in reason for r in EXPECTED_REASONS[seq % 10]), f"seq {seq}: {reason}")
        self.assertEqual(sum(int(r[0]) for r in pg.sql("SELECT next_offset FROM sluice_offsets")), n)

    def test_check_returns_promptly_on_a_top_level_or_finalizer_that_never_ends(self):
        scripts = {
            "loop.lua": ("while true do pcall(function() while true do end end) end\nfunction transform(r) return r end",
                         "loop.lua:1: instruction budget exceeded"),
            "pattern.lua": ("local s = string.rep('a', 40) .. 'b'\nstring.match(s, ('a*'):rep(20) .. 'c')\n"
                            "function transform(r) return r end", "instruction budget exceeded"),
            "gc.lua": ("setmetatable({}, {__gc = function() while true do end end})\n"
                       "collectgarbage()\nfunction transform(r) return r end",
                       "gc.lua:1: setmetatable: __gc finalizers are not available in the sluice sandbox"),
            "gc_later.lua": ("local mt = {}\nfunction transform(r) return r end\n"
                             "mt.__gc = function() while true do end end\nsetmetatable({}, mt)",
                             "gc_later.lua:4: setmetatable: __gc finalizers are not available"),
        }
        for name, (code, expected) in scripts.items():
            with self.subTest(script=name):
                self.write(name, code)
                path = self.write("p.toml", f"""
[[sources]]
type = "random_routes"
topic = "routes"
count = 10
[[sinks]]
type = "stdout"
topic = "routes"
transforms = ["{name}"]
""")
                started = time.monotonic()
                proc = run("check", path, check=2, timeout=60)
                self.assertIn(expected, proc.stderr)
                self.assertLess(time.monotonic() - started, 30)

    def stuck_pipeline(self, side):
        script = self.write("stuck.lua", STUCK)
        out = os.path.join(self.dir, "out.jsonl")
        limits = f'transforms = ["{script}"]\ntransform_instructions = 1000000000000'
        return self.write("p.toml", f"""
[[sources]]
type = "random_routes"
topic = "routes"
count = 5
{limits if side == "source" else ""}
[[sinks]]
type = "file"
topic = "routes"
path = "{out}"
{limits if side == "sink" else ""}
"""), out

    def sigterm_stops(self, side):
        path, out = self.stuck_pipeline(side)
        with process("run", path, "--progress", "0s", stdout=subprocess.DEVNULL) as p:
            wait_for(lambda: "stuck in seq" in p.stderr_text(), timeout=60, what="the script to be stuck")
            self.assertIsNone(p.proc.poll())
            p.signal(signal.SIGTERM)
            try:
                code = p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.fail("SIGTERM did not stop a pipeline whose script is stuck:\n" + p.stderr_text())
            log = p.stderr_text()
        # The record in hand was neither written nor rejected: the next run has it.
        self.assertFalse(os.path.exists(out) and os.path.getsize(out) > 0)
        self.assertNotIn("rejected", log)
        return code, log

    def test_sigterm_stops_a_source_whose_script_is_stuck(self):
        code, log = self.sigterm_stops("source")
        self.assertEqual(code, 0, log)

    def test_sigterm_stops_a_sink_whose_script_is_stuck(self):
        code, log = self.sigterm_stops("sink")
        # A stop that interrupted the batch in hand loses nothing (the batch
        # was not written, the next run reads it), so it is a clean stop.
        self.assertEqual(code, 0, log)
        self.assertIn("stopped while the script ran", log)
        self.assertIn("left for the next run", log)
