"""The example plugins of examples/plugins, built as a user builds them: the
folder copied out of the tree, `make` against a temporary install of sluice
found through pkg-config only, `make install` (staged), then loaded by the
real sluice from that plugin directory and run against its broker."""
import glob
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import SLUICE, SOURCE_DIR, TempDirTest, broker, run

BUILD_DIR = os.environ.get("SLUICE_BUILD_DIR") or os.path.dirname(os.path.dirname(os.path.abspath(SLUICE)))

# Text with what JSON must escape, and a blank line.
LINES = [f'line {n}: "quoted" \\ tab\there' if n % 10 == 0 else f"line {n}" for n in range(1, 101)]
LINES[41] = ""


def sh(*args, env=None):
    proc = subprocess.run(list(args), capture_output=True, text=True, env=env, timeout=300)
    if proc.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


class ExamplePlugins(TempDirTest):
    @classmethod
    def setUpClass(cls):
        cls.top = tempfile.mkdtemp(prefix="sluice-examples-")
        prefix = os.path.join(cls.top, "prefix")
        sh("cmake", "--install", BUILD_DIR, "--prefix", prefix)
        pcs = glob.glob(os.path.join(prefix, "**", "sluice.pc"), recursive=True)
        assert pcs, "cmake --install put no sluice.pc under " + prefix
        src = os.path.join(cls.top, "src")
        shutil.copytree(os.path.join(SOURCE_DIR, "examples", "plugins"), src)
        # Only the temporary install is visible to pkg-config; the prefix it
        # was configured with is replaced by where it was installed.
        env = dict(os.environ, PKG_CONFIG_PATH=os.path.dirname(pcs[0]), PKG_CONFIG_LIBDIR=os.path.dirname(pcs[0]))
        make = ["make", "-C", src, "PKG_CONFIG=pkg-config --define-prefix"]
        sh(*make, "CFLAGS=-O2 -Wall -Wextra -Werror", env=env)
        stage = os.path.join(cls.top, "stage")
        sh(*make, "install", "DESTDIR=" + stage, env=env)
        plugindir = sh("pkg-config", "--define-prefix", "--variable=plugindir", "sluice", env=env).strip()
        cls.plugins = stage + plugindir
        cls.built = sorted(os.path.basename(p) for p in glob.glob(os.path.join(src, "*.so")))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.top, ignore_errors=True)

    def lines_file(self):
        return self.write("in.txt", "".join(line + "\n" for line in LINES))

    def test_make_builds_both_and_install_puts_them_in_the_plugin_directory(self):
        self.assertEqual(self.built, ["file_once_sink.so", "lines_source.so"])
        self.assertEqual(sorted(os.listdir(self.plugins)), self.built)
        listing = run("--plugin-path", self.plugins, "plugins", check=0).stdout
        self.assertIn("source `lines` (" + os.path.join(self.plugins, "lines_source.so") + ")", listing)
        self.assertIn("sink `file_once` (" + os.path.join(self.plugins, "file_once_sink.so") + ")", listing)

    def test_a_pipeline_of_both_runs_on_the_embedded_broker(self):
        out = os.path.join(self.dir, "out.txt")
        path = self.write("p.toml", f"""
[[sources]]
type = "lines"
topic = "lines"
path = "{self.lines_file()}"
[[sinks]]
type = "file_once"
topic = "lines"
path = "{out}"
""")
        run("--plugin-path", self.plugins, "check", "--connect", path, check=0)
        run("--plugin-path", self.plugins, "run", path, "--progress", "0s", check=0)
        with open(out) as f:
            records = [json.loads(line) for line in f.read().splitlines()]
        self.assertEqual(records, [{"line": line, "number": n} for n, line in enumerate(LINES, 1)])
        with open(out + ".offsets") as f:
            self.assertEqual(f.read(), f"length {os.path.getsize(out)}\npartition 0 next 100\n")

    def test_the_sink_resumes_from_its_own_offsets_exactly_once(self):
        """A crash between appending a batch and storing its offsets leaves
        lines past the stored length: on assignment the sink cuts them off
        and the host seeks to the sink's offsets, not Kafka's (a new
        consumer group has none and would start from the beginning)."""
        out = os.path.join(self.dir, "out.txt")
        path = self.write("p.toml", f"""
[kafka]
bootstrap_servers = "${{KAFKA_BOOTSTRAP}}"
[[sources]]
type = "lines"
topic = "lines"
path = "{self.lines_file()}"
[[sinks]]
type = "file_once"
topic = "lines"
path = "{out}"
group = "${{GROUP}}"
""")
        with broker("lines:1") as address:
            env = {"KAFKA_BOOTSTRAP": address, "GROUP": "first"}
            run("--plugin-path", self.plugins, "run", path, "--only", "sources", env=env, check=0)
            run("--plugin-path", self.plugins, "run", path, "--only", "sinks", "--exit-after", "100", env=env, check=0)
            with open(out) as f:
                written = f.read().splitlines()
            self.assertEqual(len(written), 100)
            # As if the process died after appending offsets 60..99 and a
            # torn line, before storing the offsets after 59.
            kept = sum(len(line) + 1 for line in written[:60])
            with open(out + ".offsets", "w") as f:
                f.write(f"length {kept}\npartition 0 next 60\n")
            with open(out, "a") as f:
                f.write('{"line":"torn')
            run("--plugin-path", self.plugins, "run", path, "--only", "sources", env=env, check=0)  # offsets 100..199
            env["GROUP"] = "second"
            proc = run("--plugin-path", self.plugins, "run", path, "--only", "sinks", "--exit-after", "140", env=env,
                       check=0)
            self.assertIn("assigned partitions 0@60", proc.stderr)
        with open(out) as f:
            records = [json.loads(line) for line in f.read().splitlines()]
        expected = [{"line": line, "number": n} for n, line in enumerate(LINES, 1)]
        self.assertEqual(records, expected + expected)
        with open(out + ".offsets") as f:
            self.assertEqual(f.read(), f"length {os.path.getsize(out)}\npartition 0 next 200\n")


if __name__ == "__main__":
    unittest.main()
