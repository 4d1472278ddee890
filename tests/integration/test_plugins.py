"""Plugins: the listing comes from the option tables validation uses, and
shared-object plugins load through the C ABI (or are refused with a reason)."""
import json
import os
import re
import shutil
import socket
import urllib.request

from harness import PLUGINS, SOURCE_DIR, TempDirTest, broker, process, read_json_lines, run, wait_for

GOOD = os.path.join(PLUGINS, "good")
BAD = os.path.join(PLUGINS, "bad")

VALUES = {"integer": "1", "number": "0.5", "bool": "true", "string": '"x"', "duration": '"1s"',
          "string list": '["x"]', "table": "{ a = \"b\" }"}


def listed_options(markdown):
    """{plugin title: [(option, type, default)]} from `sluice plugins --markdown`."""
    tables, current = {}, None
    for line in markdown.splitlines():
        if line.startswith("#### "):
            current = line[5:]
            tables[current] = []
        elif line.startswith("| `") and current:
            cells = [c.strip() for c in line.strip("|").split("|")]
            tables[current].append((cells[0].strip("`"), cells[1], cells[2]))
    return tables


class Listing(TempDirTest):
    def test_every_listed_option_is_accepted_and_others_are_not(self):
        tables = listed_options(run("plugins", "--markdown", check=0).stdout)
        self.assertIn("source `random_routes`", tables)
        self.assertIn("sink `file`", tables)
        common_sink = {name for name, _, _ in tables["options of every sink"]}
        self.assertTrue({"batch_max_rows", "batch_max_wait", "start_from", "group"} <= common_sink)
        for name, typ, _ in tables["source `random_routes`"]:
            value = {"invalid_ratio": "0.5", "rate": "10"}.get(name, VALUES[typ])
            path = self.write("p.toml", f'[[sources]]\ntype = "random_routes"\ntopic = "t"\n{name} = {value}\n')
            proc = run("check", path)
            self.assertEqual(proc.returncode, 0, f"{name}: {proc.stderr}")
        path = self.write("p.toml", '[[sources]]\ntype = "random_routes"\ntopic = "t"\nnot_an_option = 1\n')
        self.assertEqual(run("check", path).returncode, 2)

    def test_required_and_defaults_shown(self):
        out = run("plugins", check=0).stdout
        self.assertRegex(out, r"path\s+string\s+required")
        self.assertRegex(out, r"batch_max_wait\s+duration\s+\"100ms\"")

    def test_readme_reference_is_current(self):
        markdown = run("plugins", "--markdown", check=0).stdout
        with open(os.path.join(SOURCE_DIR, "README.md")) as f:
            readme = f.read()
        begin, end = "<!-- plugins:begin -->\n", "<!-- plugins:end -->"
        self.assertIn(begin, readme)
        current = readme[readme.index(begin) + len(begin):readme.index(end)]
        self.assertEqual(current.strip(), markdown.strip(),
                         "README plugin reference is stale: regenerate it with scripts/update-readme.sh")


class SharedObjects(TempDirTest):
    def test_c_plugins_run_a_pipeline(self):
        out = os.path.join(self.dir, "out.txt")
        path = self.write("p.toml", f"""
[[sources]]
type = "counter"
topic = "numbers"
tag = "abc"
count = 250
[[sinks]]
type = "upper"
topic = "numbers"
path = "{out}"
""")
        listing = run("--plugin-path", GOOD, "plugins", check=0).stdout
        self.assertIn("source `counter` (" + os.path.join(GOOD, "counter_source.so") + ")", listing)
        run("--plugin-path", GOOD, "run", path, "--progress", "0s", check=0)
        with open(out) as f:
            lines = f.read().splitlines()
        self.assertEqual(sorted(lines), sorted(f'{{"N":{n},"TAG":"ABC"}}' for n in range(250)))

    def test_plugin_options_are_validated_like_built_in_ones(self):
        path = self.write("p.toml", '[[sources]]\ntype = "counter"\ntopic = "n"\ncount = "x"\n')
        proc = run("--plugin-path", GOOD, "check", path)
        self.assertEqual(proc.returncode, 2)
        self.assertIn(":4:9: error: sources[0].count: expected an integer", proc.stderr)
        self.assertIn("sources[0].tag: missing required option", proc.stderr)

    def test_env_plugin_path_is_searched(self):
        proc = run("plugins", env={"SLUICE_PLUGIN_PATH": GOOD}, check=0)
        self.assertIn("sink `upper`", proc.stdout)

    def test_wrong_abi_and_missing_symbol_are_refused_with_path_and_reason(self):
        proc = run("--plugin-path", BAD, "plugins")
        self.assertEqual(proc.returncode, 2)
        self.assertIn(f"plugin {os.path.join(BAD, 'wrong_abi.so')} refused: built for plugin ABI 1.x, "
                      "this sluice speaks 2.0", proc.stderr)
        self.assertIn(f"plugin {os.path.join(BAD, 'newer_minor.so')} refused: needs plugin ABI 2.1, "
                      "this sluice speaks 2.0", proc.stderr)
        self.assertIn(f"plugin {os.path.join(BAD, 'no_entry.so')} refused: missing symbol `sluice_plugin_entry`",
                      proc.stderr)

    def test_headers_a_c_source_emits_reach_a_c_sink(self):
        out = os.path.join(self.dir, "out.txt")
        path = self.write("p.toml", f"""
[[sources]]
type = "counter"
topic = "numbers"
tag = "abc"
count = 20
[[sinks]]
type = "upper"
topic = "numbers"
path = "{out}"
headers = true
""")
        run("--plugin-path", GOOD, "run", path, "--progress", "0s", check=0)
        with open(out) as f:
            lines = f.read().splitlines()
        self.assertEqual(sorted(lines), sorted(f'{{"N":{n},"TAG":"ABC"}} | n={n} tag=abc' for n in range(20)))

    def test_probe_runs_under_check_connect(self):
        good = os.path.join(self.dir, "out.txt")
        bad = os.path.join(self.dir, "missing", "out.txt")
        path = self.write("p.toml", f"""
[[sources]]
type = "counter"
topic = "numbers"
tag = "abc"
[[sinks]]
name = "good"
type = "upper"
topic = "numbers"
path = "{good}"
[[sinks]]
name = "bad"
type = "upper"
topic = "numbers"
path = "{bad}"
""")
        proc = run("--plugin-path", GOOD, "check", "--connect", path)
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        self.assertRegex(proc.stdout, r"(?m)^ok +sinks\.good: can append to " + re.escape(good) + "$")
        self.assertRegex(proc.stdout, r"(?m)^FAIL +sinks\.bad: cannot open " + re.escape(bad) + "$")

    def test_same_name_twice_is_refused(self):
        twice = os.path.join(self.dir, "twice")
        os.makedirs(twice)
        shutil.copy(os.path.join(GOOD, "counter_source.so"), os.path.join(twice, "a.so"))
        shutil.copy(os.path.join(GOOD, "counter_source.so"), os.path.join(twice, "b.so"))
        proc = run("--plugin-path", twice, "plugins")
        self.assertEqual(proc.returncode, 2)
        self.assertRegex(proc.stderr, r"source plugin `counter` from .*b\.so is refused: the name is taken by .*a\.so")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(addr, path):
    try:
        with urllib.request.urlopen(f"http://{addr}{path}", timeout=5) as r:
            return json.loads(r.read().decode())
    except OSError:
        return None


class PerRecordResults(TempDirTest):
    def test_a_rejected_record_lands_in_rejects_and_a_retriable_one_is_written_once(self):
        """Record 7 is rejected by the C sink with its message; record 3 fails
        retriably once: the host retries from it, so nothing before it is
        written twice and nothing after it is lost."""
        out = os.path.join(self.dir, "out.txt")
        addr = f"127.0.0.1:{free_port()}"
        path = self.write("p.toml", f"""
[kafka]
bootstrap_servers = "${{KAFKA_BOOTSTRAP}}"
[http]
listen = "{addr}"
[[sources]]
type = "counter"
topic = "numbers"
tag = "abc"
count = 50
[[sinks]]
name = "upper"
type = "upper"
topic = "numbers"
path = "{out}"
reject = '"n":7,'
fail_once = '"n":3,'
""")
        with broker("numbers:1") as address:
            env = {"KAFKA_BOOTSTRAP": address}
            run("--plugin-path", GOOD, "run", path, "--only", "sources", "--progress", "0s", env=env, check=0)
            with process("--plugin-path", GOOD, "run", path, "--only", "sinks", "--progress", "0s", env=env) as sink:
                def rejects():
                    body = get_json(addr, "/api/rejects")
                    return body and body["rejects"]
                found = wait_for(rejects, timeout=60, what="the sink's reject")

                def written():
                    with open(out) as f:
                        lines = f.read().splitlines()
                    return lines if len(lines) >= 49 else None
                lines = wait_for(written, timeout=60, what="49 lines written")
                self.assertIn("rejected by the sink: value contains the rejected word", sink.stderr_text())
                self.assertIn("simulated outage", sink.stderr_text())
        self.assertEqual(len(found), 1)
        self.assertEqual(found[0]["step"], "upper")
        self.assertEqual(found[0]["offset"], 7)
        self.assertEqual(found[0]["reason"], "value contains the rejected word")
        self.assertEqual(lines, [f'{{"N":{n},"TAG":"ABC"}}' for n in range(50) if n != 7])
