"""pipelines/github_finland.toml end to end: the `lua` source running
transforms/github_finland.lua against a local server that answers like the
GitHub API (search over two pages, paged repositories and releases, a rate
limit, a 500), through Kafka, upserted into PostgreSQL; the view; later polls
and restarts (clean, and SIGKILL mid-run) emit nothing twice and lose nothing."""
import http.server
import json
import math
import os
import re
import signal
import subprocess
import threading
import time

from harness import SOURCE_DIR, TempDirTest, broker, process, read_topic, run, wait_for
from pg import Postgres

PIPELINE = os.path.join(SOURCE_DIR, "pipelines", "github_finland.toml")
TOKEN = "ghp_fixtureToken0123456789abcdef"

SEARCH = "/search/users?q=location:finland&per_page=100"          # what the script builds
SEARCH_2 = "/search/users?q=location%3Afinland&per_page=100&page=2"  # only reachable by its Link
CAROL_REPOS = "/users/carol/repos?per_page=100&type=owner"
SITE_RELEASES = "/repos/dave/site/releases?per_page=100"
ENGINE_RELEASES = "/repos/carol/engine/releases?per_page=100"
TOOLS_RELEASES = "/repos/alice/tools/releases?per_page=100"

# (user_login, repository, release_count, latest_release_tag, latest_release_at), as psql prints them.
ROWS = [
    ["alice", "lib", "3", "v2.1", "2024-06-01 09:00:00+00"],
    ["alice", "tools", "2", "v1.1", "2024-03-01 10:00:00+00"],
    ["carol", "engine", "1", "0.1.0", "2023-11-05 12:30:00+00"],
    ["dave", "site", "1", "v3", "2024-02-29 23:59:59+00"],
]


def user(login):
    return {"login": login, "id": sum(map(ord, login)), "type": "User",
            "html_url": f"https://github.com/{login}", "url": f"https://api.github.com/users/{login}"}


def repo(owner, name, fork=False):
    return {"id": sum(map(ord, owner + name)), "name": name, "full_name": f"{owner}/{name}", "fork": fork,
            "owner": {"login": owner}, "html_url": f"https://github.com/{owner}/{name}", "private": False}


def release(tag, published_at, draft=False):
    return {"id": sum(map(ord, tag + published_at)), "tag_name": tag, "name": f"Release {tag}", "draft": draft,
            "prerelease": False, "created_at": published_at, "published_at": None if draft else published_at}


class Fixture(http.server.ThreadingHTTPServer):
    """Answers GET path?query from `routes`: a list of answers per path, used in
    order, the last one for every later request. Records every request (time,
    path, headers). A path in `gates` is held until its Event is set."""
    daemon_threads = True

    def __init__(self, faults=True):
        super().__init__(("127.0.0.1", 0), FixtureHandler)
        self.base = f"http://127.0.0.1:{self.server_address[1]}"
        self.lock = threading.Lock()
        self.requests = []            # (time.time(), path, headers) in arrival order
        self.gates = {}               # path -> (arrived Event, release Event)
        self.rate_limit_resets = []   # X-RateLimit-Reset of each 403 sent
        self.routes = self.github(faults)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    def link(self, **rels):
        return ", ".join(f'<{self.base}{path}>; rel="{rel}"' for rel, path in rels.items())

    def github(self, faults):
        ok = lambda body, link=None: (200, {"Link": link} if link else {}, body)
        routes = {
            SEARCH: [ok({"total_count": 5, "incomplete_results": False,
                         "items": [user("alice"), user("bob"), user("carol")]},
                        self.link(next=SEARCH_2, last=SEARCH_2))],
            SEARCH_2: [ok({"total_count": 5, "incomplete_results": False, "items": [user("dave"), user("erin")]},
                          self.link(prev=SEARCH, first=SEARCH))],
            # alice: repositories over two pages; lib's releases over two pages too.
            "/users/alice/repos?per_page=100&type=owner": [
                ok([repo("alice", "tools"), repo("alice", "notes")],
                   self.link(last="/users/alice/repos?per_page=100&type=owner&page=2",
                             next="/users/alice/repos?per_page=100&type=owner&page=2"))],
            "/users/alice/repos?per_page=100&type=owner&page=2": [ok([repo("alice", "lib")])],
            TOOLS_RELEASES: [
                ok([release("v1.1", "2024-03-01T10:00:00Z"), release("v1.0", "2024-01-01T10:00:00Z")])],
            "/repos/alice/notes/releases?per_page=100": [ok([])],
            "/repos/alice/lib/releases?per_page=100": [
                ok([release("v2.1", "2024-06-01T09:00:00Z"), release("v2.0", "2024-05-01T09:00:00Z")],
                   self.link(next="/repos/alice/lib/releases?per_page=100&page=2",
                             last="/repos/alice/lib/releases?per_page=100&page=2"))],
            "/repos/alice/lib/releases?per_page=100&page=2": [ok([release("v1.0", "2023-01-01T00:00:00Z")])],
            # bob: a repository without releases, so no row.
            "/users/bob/repos?per_page=100&type=owner": [ok([repo("bob", "dotfiles")])],
            "/repos/bob/dotfiles/releases?per_page=100": [ok([])],
            CAROL_REPOS: [ok([repo("carol", "engine")])],
            ENGINE_RELEASES: [ok([release("0.1.0", "2023-11-05T12:30:00Z")])],
            # dave: a fork without releases, and a repository with a draft.
            "/users/dave/repos?per_page=100&type=owner": [ok([repo("dave", "site"), repo("dave", "fork", True)])],
            SITE_RELEASES: [ok([release("v4", "2024-03-01T00:00:00Z", draft=True),
                                release("v3", "2024-02-29T23:59:59Z")])],
            "/repos/dave/fork/releases?per_page=100": [ok([])],
            # erin: no repositories at all.
            "/users/erin/repos?per_page=100&type=owner": [ok([])],
        }
        if faults:
            routes[CAROL_REPOS].insert(0, self.rate_limited)
            routes[TOOLS_RELEASES].insert(0, (429, {"Retry-After": "1"}, {"message": "Too Many Requests"}))
            routes[SITE_RELEASES].insert(0, (500, {}, {"message": "Server Error"}))
        return routes

    def rate_limited(self):
        reset = math.ceil(time.time()) + 1  # one to two seconds ahead
        self.rate_limit_resets.append(reset)
        return (403, {"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "0", "X-RateLimit-Used": "60",
                      "X-RateLimit-Reset": str(reset), "X-RateLimit-Resource": "core"},
                {"message": "API rate limit exceeded for 127.0.0.1.",
                 "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"})

    def hold(self, path):
        """Holds requests for `path` until release(path); returns the Event set when one arrives."""
        self.gates[path] = (threading.Event(), threading.Event())
        return self.gates[path][0]

    def release(self, path):
        self.gates[path][1].set()

    def answer(self, path, headers):
        with self.lock:
            self.requests.append((time.time(), path, headers))
            answers = self.routes.get(path)
            if not answers:
                return 404, {}, {"message": "Not Found"}
            answer = answers.pop(0) if len(answers) > 1 else answers[0]
        return answer() if callable(answer) else answer

    def count(self, path):
        with self.lock:
            return sum(1 for _, p, _ in self.requests if p == path)

    def times(self, path):
        with self.lock:
            return [t for t, p, _ in self.requests if p == path]

    def all_requests(self):
        with self.lock:
            return list(self.requests)

    def close(self):
        for _, released in self.gates.values():
            released.set()
        self.shutdown()
        self.server_close()


class FixtureHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        gate = self.server.gates.get(self.path)
        if gate:
            gate[0].set()
            gate[1].wait(120)  # only a guard: the test releases it, or kills the client
        status, headers, body = self.server.answer(self.path, {k.lower(): v for k, v in self.headers.items()})
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("X-RateLimit-Limit", "5000")
        if "X-RateLimit-Remaining" not in headers:
            self.send_header("X-RateLimit-Remaining", "4999")
            self.send_header("X-RateLimit-Reset", str(int(time.time()) + 3600))
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        try:
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client was killed while the request was held


class GitHubFinlandPipeline(TempDirTest):
    def setUp(self):
        super().setUp()
        self.pg = Postgres()
        self.addCleanup(self.pg.close)
        with open(os.path.join(SOURCE_DIR, "pipelines", "github_finland.sql")) as f:
            self.pg.sql(f.read())

    def fixture(self, faults=True):
        server = Fixture(faults)
        self.addCleanup(server.close)
        return server

    def env(self, server, **extra):
        env = {"PG_URI": self.pg.dsn, "GITHUB_API_URL": server.base, "GITHUB_TOKEN": "",
               "STATE_DIRECTORY": os.path.join(self.dir, "state"), "KAFKA_SESSION_TIMEOUT_MS": "6000"}
        env.update(extra)
        return env

    def readable_pipeline(self, **params):
        """The shipped pipeline with a codec kafka-python reads without extra
        libraries (lz4 is the default), for the tests that count the records in
        the topic; nothing else changes."""
        with open(PIPELINE) as f:
            text = f.read()
        script = os.path.join(SOURCE_DIR, "transforms", "github_finland.lua")
        text = text.replace("[kafka]\n", '[kafka]\ncompression = "gzip"\n', 1)
        text = text.replace('"../transforms/github_finland.lua"', json.dumps(script), 1)
        for name, value in params.items():
            text = text.replace("[sources.params]\n", f"[sources.params]\n{name} = {json.dumps(value)}\n", 1)
        self.assertIn("gzip", text)
        self.assertIn(script, text)
        return self.write("github_finland.toml", text)

    def rows(self):
        return self.pg.sql("SELECT user_login, repository, release_count, latest_release_tag, latest_release_at "
                           "FROM github_releases ORDER BY user_login, repository")

    def row_count(self):
        return int(self.pg.scalar("SELECT count(*) FROM github_releases"))

    def records(self, address):
        return [json.loads(m.value) for m in read_topic(address, "github_releases", 1)]

    def test_rows_view_rate_limit_retry_and_token(self):
        server = self.fixture()
        env = self.env(server, GITHUB_TOKEN=TOKEN, GITHUB_INTERVAL="1h")
        with process("run", PIPELINE, "--progress", "0s", env=env) as p:
            wait_for(lambda: "round done" in p.stderr_text(), timeout=90, what="the first round")
            wait_for(lambda: self.row_count() == len(ROWS), timeout=60, what="every row")
            p.signal(signal.SIGTERM)
            self.assertEqual(p.wait(timeout=60), 0, p.stderr_text())
            out = p.proc.stdout.read()
            log = p.stderr_text()
        self.assertEqual(self.rows(), ROWS)
        self.assertEqual(self.pg.scalar("SELECT count(*) FROM sluice_rejects"), "0")
        self.assertIn("round done: 5 users found (5 looked at in this poll, 0 skipped), 4 repositories with releases, "
                      "4 new records", log)

        # Search page 2 and the second pages were only reachable through Link rel="next".
        for path in (SEARCH_2, "/users/alice/repos?per_page=100&type=owner&page=2",
                     "/repos/alice/lib/releases?per_page=100&page=2"):
            self.assertEqual(server.count(path), 1, path)

        # The 403 with X-RateLimit-Remaining: 0 was waited out, then the same request sent again.
        (reset,) = server.rate_limit_resets
        limited, retried = server.times(CAROL_REPOS)
        self.assertGreaterEqual(retried, reset, "retried before X-RateLimit-Reset")
        self.assertRegex(log, r"rate limited \(HTTP 403, X-RateLimit-Remaining 0 until [0-9:]+Z\) on "
                              r"/users/carol/repos\?per_page=100&type=owner, then retrying it: waiting [1-3]\.[0-9] s")
        # The 429 with Retry-After: 1 was retried a second later at the earliest.
        first, again = server.times(TOOLS_RELEASES)
        self.assertGreaterEqual(again - first, 1.0)
        self.assertRegex(log, r"rate limited \(HTTP 429, Retry-After 1\) on /repos/alice/tools/releases\?per_page=100, "
                              r"then retrying it: waiting 1\.0 s")
        # The 500 was retried (after a backoff) and its repository stored.
        self.assertEqual(server.count(SITE_RELEASES), 2)
        self.assertRegex(log, r"HTTP 500 on /repos/dave/site/releases\?per_page=100, retry 1 of \d+: waiting 1\.0 s")
        # Nothing hammers: no request was sent twice but those three.
        paths = [path for _, path, _ in server.all_requests()]
        self.assertEqual(sorted(set(paths)), sorted(server.routes))
        self.assertEqual(len(paths), len(server.routes) + 3)

        # Every request carried the token as a Bearer; no output shows it.
        for _, path, headers in server.all_requests():
            self.assertEqual(headers.get("authorization"), "Bearer " + TOKEN, path)
            self.assertEqual(headers.get("accept"), "application/vnd.github+json", path)
        self.assertNotIn(TOKEN, log + out)
        printed = run("check", "--print", "--offline", PIPELINE, env=env, check=0)
        self.assertNotIn(TOKEN, printed.stdout + printed.stderr)

        # The view: one row per user with releases, their repositories as a JSON array, newest first.
        view = {login: (int(count), int(releases), json.loads(repos)) for login, count, releases, repos in
                self.pg.sql("SELECT user_login, repository_count, release_count, repositories "
                            "FROM github_users_with_releases")}
        self.assertEqual(sorted(view), ["alice", "carol", "dave"])
        self.assertEqual(view["alice"][:2], (2, 5))
        self.assertEqual([(r["repository"], r["release_count"], r["latest_release_tag"], r["url"])
                          for r in view["alice"][2]],
                         [("lib", 3, "v2.1", "https://github.com/alice/lib"),
                          ("tools", 2, "v1.1", "https://github.com/alice/tools")])
        self.assertEqual(view["dave"], (1, 1, [{"repository": "site", "url": "https://github.com/dave/site",
                                                "release_count": 1, "latest_release_tag": "v3",
                                                "latest_release_at": "2024-02-29T23:59:59+00:00"}]))
        # Served as is by an API layer: a role that may read the view, and nothing else, reads it.
        self.pg.sql("CREATE ROLE web_anon NOLOGIN; GRANT USAGE ON SCHEMA public TO web_anon; "
                    "GRANT SELECT ON github_users_with_releases TO web_anon")
        self.assertEqual(self.pg.scalar("SET ROLE web_anon; SELECT count(*) FROM github_users_with_releases"),
                         "3")

    def test_later_polls_and_a_clean_restart_emit_nothing_again(self):
        server = self.fixture(faults=False)
        with broker("github_releases:1") as address:
            env = self.env(server, KAFKA_BOOTSTRAP=address, GITHUB_INTERVAL="1s")
            pipeline = self.readable_pipeline()
            with process("run", pipeline, "--progress", "0s", env=env, stdout=subprocess.DEVNULL) as p:
                # The third round's search starts only after the second round was saved.
                wait_for(lambda: server.count(SEARCH) >= 3, timeout=90, what="three rounds")
                wait_for(lambda: self.row_count() == len(ROWS), timeout=60, what="every row")
                self.assertEqual(len(self.records(address)), len(ROWS))
                p.signal(signal.SIGTERM)
                self.assertEqual(p.wait(timeout=60), 0, p.stderr_text())
            rounds = server.count(SEARCH)
            with process("run", pipeline, "--progress", "0s", env=env, stdout=subprocess.DEVNULL) as p:
                wait_for(lambda: server.count(SEARCH) >= rounds + 2, timeout=90, what="two rounds after the restart")
                records = self.records(address)
                p.signal(signal.SIGTERM)
                self.assertEqual(p.wait(timeout=60), 0, p.stderr_text())
        self.assertEqual(sorted((r["user_login"], r["repository"], r["release_count"]) for r in records),
                         [(login, name, int(count)) for login, name, count, _, _ in ROWS])
        self.assertEqual(self.rows(), ROWS)
        # Without a token, no Authorization header at all.
        self.assertTrue(all("authorization" not in h for _, _, h in server.all_requests()))

    def test_sigkill_mid_run_then_restart_loses_and_doubles_no_row(self):
        server = self.fixture(faults=False)
        arrived = server.hold(ENGINE_RELEASES)  # carol's, after alice's rows and mid-way through carol
        with broker("github_releases:1") as address:
            env = self.env(server, KAFKA_BOOTSTRAP=address, GITHUB_INTERVAL="1h")
            pipeline = self.readable_pipeline()
            with process("run", pipeline, "--progress", "0s", env=env, stdout=subprocess.DEVNULL) as p:
                wait_for(arrived.is_set, timeout=90, what="the held request")
                wait_for(lambda: self.row_count() == 2, timeout=60, what="alice's rows")
                p.signal(signal.SIGKILL)
                p.wait(timeout=60)
            server.release(ENGINE_RELEASES)
            killed_at = len(server.all_requests())
            with process("run", pipeline, "--progress", "0s", env=env, stdout=subprocess.DEVNULL) as p:
                wait_for(lambda: "round done" in p.stderr_text(), timeout=90, what="the resumed round")
                wait_for(lambda: self.row_count() == len(ROWS), timeout=60, what="every row")
                records = self.records(address)
                p.signal(signal.SIGTERM)
                self.assertEqual(p.wait(timeout=60), 0, p.stderr_text())
        self.assertEqual(self.rows(), ROWS)
        self.assertEqual(self.pg.scalar("SELECT count(*) FROM sluice_rejects"), "0")
        # Every record reached Kafka; alice's, saved before the kill, were not asked for or sent again.
        sent = [(r["user_login"], r["repository"]) for r in records]
        self.assertEqual(sorted(sent), [(login, name) for login, name, _, _, _ in ROWS])
        after = [path for _, path, _ in server.all_requests()[killed_at:]]
        self.assertNotIn("/users/alice/repos?per_page=100&type=owner", after)
        self.assertIn(CAROL_REPOS, after)

    def test_a_next_link_to_another_host_is_not_followed(self):
        server, elsewhere = self.fixture(faults=False), self.fixture(faults=False)
        alice = "/users/alice/repos?per_page=100&type=owner"
        status, headers, body = server.routes[alice][0]
        server.routes[alice] = [(status, {"Link": f'<{elsewhere.base}{alice}&page=2>; rel="next"'}, body)]
        # A redirect (GitHub's answer for a renamed user) to another host is followed, without the token.
        bob = "/users/bob/repos?per_page=100&type=owner"
        elsewhere.routes[bob] = server.routes[bob]
        server.routes[bob] = [(302, {"Location": elsewhere.base + bob}, {})]
        env = self.env(server, GITHUB_TOKEN=TOKEN, GITHUB_INTERVAL="1h")
        with process("run", PIPELINE, "--progress", "0s", env=env) as p:
            wait_for(lambda: "round done" in p.stderr_text(), timeout=90, what="the round")
            wait_for(lambda: self.row_count() == 2, timeout=60, what="carol's and dave's rows")
            log = p.stderr_text()
        # The token goes to the API only; alice is skipped this round, the others stored.
        self.assertEqual([(path, "authorization" in headers) for _, path, headers in elsewhere.all_requests()],
                         [(bob, False)])
        self.assertIn(f"skipping user alice this round: Link rel=next leaves the API: {elsewhere.base}", log)
        self.assertEqual(self.rows(), [r for r in ROWS if r[0] != "alice"])

    def test_a_lasting_500_is_retried_a_bounded_number_of_times_then_skipped(self):
        server = self.fixture(faults=False)
        dotfiles = "/repos/bob/dotfiles/releases?per_page=100"
        server.routes[dotfiles] = [(502, {}, {"message": "Bad Gateway"})]
        env = self.env(server, GITHUB_INTERVAL="1h")
        with process("run", self.readable_pipeline(max_retries="2"), "--progress", "0s", env=env) as p:
            wait_for(lambda: "round done" in p.stderr_text(), timeout=90, what="the round")
            wait_for(lambda: self.row_count() == len(ROWS), timeout=60, what="every row")
            log = p.stderr_text()
        times = server.times(dotfiles)
        self.assertEqual(len(times), 3)  # the first try and 2 retries, after 1 s and 2 s
        self.assertGreaterEqual(times[1] - times[0], 1.0)
        self.assertGreaterEqual(times[2] - times[1], 2.0)
        self.assertIn("skipping bob/dotfiles this round: HTTP 502, 3 times", log)
        self.assertIn("skipping user bob this round: its repository dotfiles was skipped", log)
        self.assertIn("round done: 5 users found (5 looked at in this poll, 1 skipped)", log)
        self.assertEqual(self.rows(), ROWS)

    def test_a_stop_ends_a_rate_limit_wait_at_once(self):
        server = self.fixture(faults=False)
        reset = int(time.time()) + 3600
        server.routes[CAROL_REPOS].insert(0, (403, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)},
                                              {"message": "API rate limit exceeded"}))
        env = self.env(server, GITHUB_INTERVAL="1h")
        with process("run", PIPELINE, "--progress", "0s", env=env) as p:
            wait_for(lambda: "rate limited" in p.stderr_text(), timeout=90, what="the rate-limit wait")
            p.signal(signal.SIGTERM)
            self.assertEqual(p.wait(timeout=30), 0, p.stderr_text())  # not an hour
            log = p.stderr_text()
        waited = re.search(r"X-RateLimit-Remaining 0 until [0-9:]+Z\) on /users/carol/repos\?per_page=100&type=owner, "
                           r"then retrying it: waiting (\d+\.\d) s", log)
        self.assertTrue(waited, log)
        (asked,) = server.times(CAROL_REPOS)
        self.assertAlmostEqual(float(waited.group(1)), reset + 1 - asked, delta=1.0)  # until the reset
        # The users done before the stop are kept: the next run goes on with carol.
        with open(os.path.join(self.dir, "state", "github.state.json")) as f:
            state = json.load(f)
        self.assertEqual(sorted(state["round"]["done"]), ["alice", "bob"])
        self.assertEqual(sorted(state["emitted"]), ["alice/lib", "alice/tools"])
