"""Debian's chromium, headless, driven over its DevTools protocol (a
websocket, python3-websocket): load a page, read the DOM, collect console
errors and the page's network traffic, take a screenshot. No npm.
The browser and its profile directory are always removed by close()."""
import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request

import websocket

CHROMIUM = os.environ.get("SLUICE_CHROMIUM", "/usr/bin/chromium")


class Browser:
    def __init__(self, width=1400, height=1000, timeout=60):
        self.profile = tempfile.mkdtemp(prefix="sluice-chromium-")
        self.events = []
        self.ws = None
        self._id = 0
        # No background traffic of its own (updates, sync, safe browsing):
        # the only requests are the page's, and they all go to 127.0.0.1.
        args = [CHROMIUM, "--headless=new", "--no-sandbox", "--remote-debugging-port=0",
                f"--user-data-dir={self.profile}", f"--window-size={width},{height}", "--disable-gpu",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-sync",
                "--disable-background-networking", "--disable-component-update", "--disable-default-apps",
                "--disable-features=Translate,OptimizationHints,MediaRouter", "--hide-scrollbars",
                "--mute-audio", "about:blank"]
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=self.log, start_new_session=True)
        try:
            port = self._wait_for_port(timeout)
            self.ws = websocket.create_connection(self._page_target(port), timeout=timeout, suppress_origin=True)
            for domain in ("Page", "Runtime", "Log", "Network"):
                self.call(domain + ".enable")
        except BaseException:
            self.close()
            raise

    def _wait_for_port(self, timeout):
        # chromium writes the port it chose (line 1) once it listens.
        path = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.monotonic() + timeout
        while True:
            if os.path.exists(path):
                with open(path) as f:
                    lines = f.read().split("\n")
                if len(lines) >= 2 and lines[0].isdigit():
                    return int(lines[0])
            if self.proc.poll() is not None:
                raise AssertionError(f"chromium exited {self.proc.returncode}:\n{self.output()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"chromium wrote no DevToolsActivePort in {timeout}s:\n{self.output()}")
            time.sleep(0.05)

    def _page_target(self, port):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as response:
            targets = json.load(response)
        pages = [t for t in targets if t.get("type") == "page"]
        if not pages:
            raise AssertionError(f"chromium has no page target: {targets}")
        return pages[0]["webSocketDebuggerUrl"]

    def output(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-4000:]

    def call(self, method, **params):
        """Sends a command and returns its result; events meanwhile go to self.events."""
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self._id:
                if "error" in message:
                    raise AssertionError(f"{method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)

    def evaluate(self, expression):
        """The value of a JavaScript expression in the page (JSON-able values)."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression, timeout=60, what=None):
        """Polls a JavaScript expression until it is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {what or expression}")
            time.sleep(0.1)

    def navigate(self, url):
        self.call("Page.navigate", url=url)

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        return path

    def problems(self):
        """Console errors, uncaught exceptions, failed or >= 400 requests, and
        requests anywhere but 127.0.0.1, seen so far (as readable lines)."""
        found = []
        for e in self.events:
            method, p = e["method"], e.get("params", {})
            if method == "Runtime.consoleAPICalled" and p.get("type") == "error":
                found.append("console.error: " + " ".join(str(a.get("value", a.get("description")))
                                                          for a in p.get("args", [])))
            elif method == "Runtime.exceptionThrown":
                found.append("exception: " + json.dumps(p.get("exceptionDetails"))[:500])
            elif method == "Log.entryAdded" and p["entry"].get("level") == "error":
                found.append(f"log error: {p['entry'].get('text')} {p['entry'].get('url', '')}")
            elif method == "Network.loadingFailed":
                found.append(f"request failed: {p.get('errorText')} {p.get('blockedReason', '')}")
            elif method == "Network.responseReceived" and p["response"]["status"] >= 400:
                found.append(f"HTTP {p['response']['status']}: {p['response']['url']}")
            elif method == "Network.requestWillBeSent":
                url = p["request"]["url"]
                if not url.startswith("http://127.0.0.1:"):
                    found.append("request to another host: " + url)
        return found

    def close(self):
        if self.ws is not None:
            try:
                self.ws.close()
            except Exception:
                pass
            self.ws = None
        if self.proc.poll() is None:
            # Its own session: the renderer and GPU processes go with it.
            try:
                os.killpg(self.proc.pid, 15)
                self.proc.wait(timeout=10)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                try:
                    os.killpg(self.proc.pid, 9)
                except ProcessLookupError:
                    pass
                self.proc.wait()
        try:  # a helper process that outlived the browser
            os.killpg(self.proc.pid, 9)
        except ProcessLookupError:
            pass
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)
