"""The status page in a real browser (Debian's chromium, headless, over its
DevTools protocol): a running pipeline (random_routes -> embedded broker ->
validate_route.lua -> PostgreSQL) is drawn as its steps with live rates,
its rejects with their reasons and a tap table of record fields, with no
console error, no failed request and no request off 127.0.0.1; hostile
records and reasons show as text and run nothing. A screenshot is saved
(its path is printed)."""
import json
import os
import tempfile
import unittest
import urllib.request

from cdp_browser import CHROMIUM, Browser
from harness import SLUICE, SOURCE_DIR, TempDirTest, process, wait_for
from pg import Postgres, free_port

VALIDATE = os.path.join(SOURCE_DIR, "transforms", "validate_route.lua")
TABLE = """CREATE TABLE routes (seq bigint NOT NULL, user_id integer NOT NULL, ts timestamptz NOT NULL,
  lat double precision NOT NULL, lon double precision NOT NULL, note text NOT NULL)"""
# In a record (the tap) and in a reason (the rejects): markup that would run
# if the page ever inserted data as HTML.
HOSTILE = '<img src=x onerror="window.__sluice_pwned=1"><script>window.__sluice_pwned=2</script>'
# Before validate_route: every record gets a note (the table maps it), every
# 10th a hostile one; every 50th is rejected with a hostile reason.
HOSTILE_LUA = f"""
local hostile = {HOSTILE!r}
function transform(r)
  if type(r.seq) == "number" and r.seq % 50 == 5 then return nil, hostile end
  r.note = (type(r.seq) == "number" and r.seq % 10 == 0) and hostile or "ok"
  return r
end
"""


def screenshot_path():
    """$SLUICE_TEST_OUTPUT, else beside the build's sluice, else a temp dir: never the source tree."""
    out = os.environ.get("SLUICE_TEST_OUTPUT")
    if not out and os.path.isabs(SLUICE):
        out = os.path.join(os.path.dirname(os.path.dirname(SLUICE)), "test-output")
    return os.path.join(out or os.path.join(tempfile.gettempdir(), "sluice-test-output"), "status_page.png")


def cards_js(field):
    return f"[...document.querySelectorAll('#flow [data-step]')].map(e => [e.dataset.step, e.dataset.{field}])"


@unittest.skipUnless(os.access(CHROMIUM, os.X_OK), f"{CHROMIUM} is not installed (scripts/deps.sh)")
class StatusPage(TempDirTest):
    def test_page_shows_steps_rates_rejects_and_tap_with_no_errors(self):
        pg = Postgres()
        self.addCleanup(pg.close)
        pg.sql(TABLE)
        port = free_port()
        hostile = self.write("hostile.lua", HOSTILE_LUA)
        path = self.write("p.toml", f"""
name = "page"
[kafka]
librdkafka = {{ "session.timeout.ms" = 6000 }}
[http]
listen = "127.0.0.1:{port}"
[[sources]]
name = "routes"
type = "random_routes"
topic = "routes"
key = "user_id"
partitions = 2
rate = 300
invalid_ratio = 0.1
[[sinks]]
name = "store"
type = "postgres"
topic = "routes"
conninfo = "${{PG_URI}}"
table = "routes"
batch_max_rows = 50
transforms = ["{hostile}", "{VALIDATE}"]
""")
        url = f"http://127.0.0.1:{port}/"
        with process("run", path, "--progress", "0s", env={"PG_URI": pg.dsn}) as sluice:
            def page_served():
                if sluice.proc.poll() is not None:
                    raise AssertionError(f"sluice exited {sluice.proc.returncode}:\n{sluice.stderr_text()}")
                try:
                    with urllib.request.urlopen(url, timeout=5) as response:
                        return response.headers
                except OSError:
                    return None
            headers = wait_for(page_served, timeout=120, what="the status page served")
            self.assertIn("default-src 'self'", headers["Content-Security-Policy"])
            self.assertEqual(headers["Cache-Control"], "no-cache")
            self.assertTrue(headers["Content-Type"].startswith("text/html"), headers["Content-Type"])
            wait_for(lambda: int(pg.scalar("SELECT count(*) FROM routes")) > 0, timeout=120, what="rows stored")

            browser = Browser()
            try:
                self.check_page(browser, url)
            except BaseException:
                # What the page showed when a check failed, to look at.
                print(f"\nstatus page at the failure: {browser.screenshot(screenshot_path())}")
                raise
            finally:
                browser.close()

    def check_page(self, browser, url):
        browser.navigate(url)
        # Both steps, each with a rate once two samples are in.
        browser.wait_for("document.querySelectorAll('#flow [data-step]').length == 2 && "
                         "[...document.querySelectorAll('#flow [data-step]')].every(e => e.dataset.rate !== '')",
                         timeout=60, what="both steps with a rate")
        self.assertEqual(dict(browser.evaluate(cards_js("kind"))), {"routes": "source", "store": "sink"})
        self.assertEqual(browser.evaluate("document.querySelector('[data-topic]').dataset.topic"), "routes")
        self.assertIn("validate_route.lua", browser.evaluate("document.getElementById('flow').textContent"))
        first = dict((k, int(v)) for k, v in browser.evaluate(cards_js("total")))
        # The next samples: totals grow and each step shows a positive rate in records/s.
        browser.wait_for(f"{cards_js('total')}.every(([k, v]) => Number(v) > {json.dumps(first)}[k] && "
                         f"Number(document.querySelector(`#flow [data-step=\"${{k}}\"]`).dataset.rate) > 0)",
                         timeout=60, what="each step's total growing with a positive rate")
        rate_texts = browser.evaluate("[...document.querySelectorAll('#flow [data-rate-text]')].map(e => e.textContent)")
        for text in rate_texts:
            self.assertRegex(text, r"^[\d,.]+ rec/s$")
        browser.wait_for("[...document.querySelectorAll('#flow .card')].every(e => e.dataset.state === 'up' && "
                         "e.querySelector('[data-state]').textContent === 'up')", timeout=60, what="both steps up")
        self.assertRegex(browser.evaluate("document.querySelector('#flow [data-step=\"store\"] [data-lag]').textContent"),
                         r"^(caught up|[\d,]+ records · [\d.,]+ (s|min))")

        # A reject from validate_route with its reason, where it was.
        browser.wait_for("[...document.querySelectorAll('#rejects [data-reason]')]"
                         ".some(e => e.textContent.startsWith('validate_route.lua: '))",
                         timeout=60, what="a reject from validate_route.lua")
        where = browser.evaluate("document.querySelector('#rejects tr[data-reject] td:nth-child(3)').textContent")
        self.assertRegex(where, r"^routes/\d@[\d,]+$")

        # The tap of the first sink: a table with a column per record field.
        self.assertEqual(browser.evaluate("document.getElementById('tap-step').value"), "store")
        browser.wait_for("document.querySelectorAll('#tap tr[data-tap-row]').length >= 5", timeout=60,
                         what="tap rows")
        columns = browser.evaluate("[...document.querySelectorAll('#tap thead th')].map(e => e.textContent)")
        for field in ("seq", "user_id", "ts", "lat", "lon", "note"):
            self.assertIn(field, columns)
        seqs = browser.evaluate("[...document.querySelectorAll('#tap [data-field=\"seq\"]')].map(e => e.textContent)")
        self.assertTrue(all(s.isdigit() for s in seqs), seqs)

        # Hostile markup shows as text, in the tap and in the rejects, and runs nothing.
        browser.wait_for("[...document.querySelectorAll('#tap [data-field=\"note\"]')]"
                         ".some(e => e.textContent.startsWith('<img src=x onerror='))", timeout=60,
                         what="a hostile note shown as text in the tap")
        browser.wait_for("[...document.querySelectorAll('#rejects [data-reason]')]"
                         ".some(e => e.textContent.includes('<img src=x onerror='))", timeout=60,
                         what="a hostile reason shown as text in the rejects")
        self.assertEqual(browser.evaluate("document.querySelectorAll('main img, main script').length"), 0)
        self.assertIsNone(browser.evaluate("window.__sluice_pwned"))

        # The chart has drawn a line for each step (its legend names them).
        legend = browser.evaluate("document.getElementById('legend').textContent")
        self.assertIn("routes", legend)
        self.assertIn("store", legend)

        path = browser.screenshot(screenshot_path())
        print(f"\nstatus page screenshot: {path}")
        self.assertEqual(browser.problems(), [])
        self.assertTrue(any(e["method"] == "Network.responseReceived" and "/api/tap?step=store" in
                            e["params"]["response"]["url"] for e in browser.events), "the page never read the tap")


if __name__ == "__main__":
    unittest.main()
