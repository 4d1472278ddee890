"""For working on the status page without a pipeline: serves the page's
files from core/src/observe/page (edits show on reload) and made-up
/api/status, /api/rejects and /api/tap in the shapes of the real ones,
hostile records included. Not a test: `python3 page_devserver.py [PORT] [--only-store]`."""
import http.server
import json
import os
import random
import sys
import time
import urllib.parse

PAGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "core", "src", "observe", "page")
FILES = {"/": ("index.html", "text/html; charset=utf-8"),
         "/static/app.js": ("app.js", "text/javascript; charset=utf-8"),
         "/static/style.css": ("style.css", "text/css; charset=utf-8"),
         "/favicon.svg": ("favicon.svg", "image/svg+xml")}
STARTED = time.time()
ONLY_STORE = "--only-store" in sys.argv
HOSTILE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'


def status():
    """Two sinks on one topic; with --only-store, as the browser test's pipeline."""
    t = time.time() - STARTED
    produced = int(t * 480)
    stored = int(t * 430)
    return {"pipeline": "demo", "version": "0.4.0-dev", "started_at": STARTED, "now": time.time(), "ready": True,
            "steps": [
                {"name": "routes", "kind": "source", "type": "random_routes", "topic": "routes", "transforms": [],
                 "state": "up", "reason": "", "records_in": produced, "records_out": produced, "rejected": 0,
                 "dropped": 0, "bytes_in": produced * 80, "bytes_out": produced * 80, "lag_records": None,
                 "lag_seconds": None, "partitions": []},
                {"name": "store", "kind": "sink", "type": "postgres", "topic": "routes",
                 "transforms": ["/abs/transforms/validate_route.lua"], "state": "up" if t % 40 < 30 else "retrying",
                 "reason": "" if t % 40 < 30 else "PostgreSQL: connection refused " + HOSTILE,
                 "records_in": produced - 30, "records_out": stored, "rejected": produced // 10, "dropped": 0,
                 "bytes_in": produced * 80, "bytes_out": stored * 80, "lag_records": 30, "lag_seconds": 0.4,
                 "partitions": [{"partition": 0, "next_offset": stored, "high_watermark": stored + 30,
                                 "lag_records": 30, "lag_seconds": 0.4}]},
                {"name": "archive", "kind": "sink", "type": "file", "topic": "routes", "transforms": [],
                 "state": "up", "reason": "", "records_in": produced, "records_out": produced - 5, "rejected": 0,
                 "dropped": 0, "bytes_in": produced * 80, "bytes_out": produced * 80, "lag_records": 0,
                 "lag_seconds": 0, "partitions": []}][:2 if ONLY_STORE else 3]}


def record(n):
    r = {"seq": n, "user_id": random.randint(1, 500), "ts": time.time(), "lat": random.uniform(-90, 90),
         "lon": random.uniform(-180, 180), "tags": {"a": [1, 2, 3], "b": "x" * 80}}
    if n % 7 == 0:
        r["note"] = HOSTILE
    return r


class Handler(http.server.BaseHTTPRequestHandler):
    def send(self, code, body, content_type):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Content-Security-Policy", "default-src 'self'")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        if url.path in FILES:
            name, content_type = FILES[url.path]
            with open(os.path.join(PAGE, name), "rb") as f:
                return self.send(200, f.read(), content_type)
        if url.path == "/api/status":
            return self.send(200, json.dumps(status()), "application/json")
        if url.path == "/api/rejects":
            after = int(query.get("after", 0))
            last = int((time.time() - STARTED) / 3)
            rejects = [{"n": n, "step": "store", "topic": "routes", "partition": n % 4, "offset": n * 31,
                        "time": time.time(), "reason": "validate_route.lua: lat out of range: north" if n % 2
                        else "validate_route.lua: " + HOSTILE,
                        "record_text": json.dumps({"seq": n, "lat": "north", "note": HOSTILE})}
                       for n in range(max(after, last - 50) + 1, last + 1)]
            return self.send(200, json.dumps({"last": last, "rejects": rejects}), "application/json")
        if url.path == "/api/tap":
            time.sleep(0.5)
            base = int((time.time() - STARTED) * 400)
            lines = [json.dumps({"step": query.get("step"), "topic": "routes", "partition": i % 4,
                                 "offset": base + i, "time": time.time(), "key": str(i), "record": record(base + i)})
                     for i in range(int(query.get("limit", 10)))]
            return self.send(200, "\n".join(lines) + "\n", "application/x-ndjson")
        self.send(404, '{"error":"not found"}', "application/json")

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    ports = [a for a in sys.argv[1:] if a.isdigit()]
    port = int(ports[0]) if ports else 8765
    print(f"http://127.0.0.1:{port}/", flush=True)
    http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
