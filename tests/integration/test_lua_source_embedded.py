"""The `lua` source on the embedded broker: the broker's log ends with the
process, so a record counts as sent (ctx.state saved) only once the sinks
here have stored it. With PostgreSQL down, the state stays where the stored
records are; after a clean stop and a restart, nothing is missing."""
import json
import os
import signal
import threading
import unittest

import test_lua_source as lua
from harness import TempDirTest, process, wait_for
from pg import Postgres

SCRIPT = """
function poll(ctx)
  local after = ctx.state.after or 0
  while true do
    local r, err = sluice.http.get(ctx.params.base .. "/items?after=" .. after)
    if not r then error("request failed: " .. err) end
    local items = sluice.json.decode(r.body)
    if #items == 0 then return end
    for _, id in ipairs(items) do ctx.emit({id = id}, tostring(id)) end
    after = items[#items]
    ctx.state.after = after
    if not ctx.checkpoint() then return end
  end
end
"""

PIPELINE = """
name = "luasrc-embedded"
[kafka]
bootstrap_servers = "embedded"
[[sources]]
name = "items"
type = "lua"
topic = "items"
script = "script.lua"
interval = "1h"
state_dir = "state"
[sources.params]
base = "{base}"
[[sinks]]
name = "store"
type = "postgres"
topic = "items"
conninfo = "{dsn} connect_timeout=2"
table = "items"
"""


class GatedHandler(lua.Handler):
    """Holds the request for the second page until the test opens the gate."""

    def do_GET(self):
        if "after=5" in self.path:
            self.server.gate.wait(60)
        super().do_GET()


class GatedServer(lua.Server):
    def __init__(self):
        super().__init__(total=10, page=5)
        self.RequestHandlerClass = GatedHandler
        self.gate = threading.Event()

    def close(self):
        self.gate.set()
        super().close()


class EmbeddedBrokerState(TempDirTest):
    def setUp(self):
        super().setUp()
        self.pg = Postgres()
        self.pg.sql("CREATE TABLE items (id integer PRIMARY KEY)")
        self.server = GatedServer()

    def tearDown(self):
        self.server.close()
        self.pg.close()
        super().tearDown()

    def state(self):
        try:
            with open(os.path.join(self.dir, "state", "items.state.json")) as f:
                return json.load(f)
        except (FileNotFoundError, json.JSONDecodeError):
            return {}

    def rows(self):
        try:
            return [int(r[0]) for r in self.pg.sql("SELECT id FROM items ORDER BY id")]
        except Exception:  # the server is stopped or starting
            return None

    def test_state_waits_for_the_sink_and_a_restart_after_an_outage_loses_nothing(self):
        self.write("script.lua", SCRIPT)
        path = self.write("pipeline.toml", PIPELINE.format(base=self.server.base, dsn=self.pg.dsn))
        with process("run", path, "--progress", "0s") as p:
            wait_for(lambda: self.rows() == [1, 2, 3, 4, 5], what="the first page stored")
            wait_for(lambda: self.state() == {"after": 5}, what="the state of the stored page saved")
            self.pg.stop()
            self.server.gate.set()  # the second page is emitted and acknowledged by the broker, not stored
            wait_for(lambda: "write failed" in p.stderr_text(), what="the sink failing to store the second page")
            p.signal(signal.SIGTERM)
            self.assertEqual(p.wait(120), 0, p.stderr_text())
        # Kafka acknowledged ids 6..10, but only this process's broker held them, and it is gone.
        self.assertEqual(self.state(), {"after": 5})
        self.pg.start()
        with process("run", path, "--progress", "0s") as p:
            wait_for(lambda: self.rows() == list(range(1, 11)), what="every id stored after the restart")
            wait_for(lambda: self.state() == {"after": 10}, what="the state of the stored pages saved")
            p.signal(signal.SIGTERM)
            self.assertEqual(p.wait(120), 0, p.stderr_text())


if __name__ == "__main__":
    unittest.main()
