"""`sluice check` and `sluice run` report every configuration error with
file:line:col and exit 2, before anything starts, and never print a secret."""
import os
import re

from harness import TempDirTest, run

SOURCE = '[[sources]]\ntype = "random_routes"\ntopic = "routes"\ncount = 1\n'
SINK = '[[sinks]]\ntype = "stdout"\ntopic = "routes"\n'


class ConfigErrors(TempDirTest):
    def assert_error(self, text, expected, env=None):
        """`expected` is a regex the error line must match, with {file} for the path."""
        path = self.write("p.toml", text)
        pattern = expected.replace("{file}", re.escape(path))
        for verb in ("check", "run"):
            proc = run(verb, path, env=env)
            self.assertEqual(proc.returncode, 2, f"{verb}: {proc.stderr}")
            self.assertRegex(proc.stderr, pattern, verb)
            self.assertNotIn("starting", proc.stderr, f"{verb} started despite the error")
        return proc.stderr

    def test_unknown_key_with_nearest(self):
        self.assert_error(SOURCE + SINK.replace('topic = "routes"', 'topic = "routes"\nbatch_max_row = 5'),
                          r"{file}:8:1: error: sinks\[0\]\.batch_max_row: unknown key \(did you mean `batch_max_rows`\?\)")

    def test_unknown_top_level_key(self):
        self.assert_error("nmae = 'x'\n" + SOURCE + SINK, r"{file}:1:1: error: nmae: unknown key \(did you mean `name`\?\)")

    def test_wrong_type(self):
        self.assert_error(SOURCE.replace("count = 1", 'count = "many"') + SINK,
                          r"{file}:4:9: error: sources\[0\]\.count: expected an integer, found a string")

    def test_bad_duration(self):
        self.assert_error(SOURCE + SINK + 'batch_max_wait = "100"\n',
                          r"{file}:8:18: error: sinks\[0\]\.batch_max_wait: `100` is not a duration")

    def test_missing_required_option(self):
        self.assert_error(SOURCE + '[[sinks]]\ntype = "file"\ntopic = "routes"\n',
                          r"{file}:5:1: error: sinks\[0\]\.path: missing required option")

    def test_unknown_plugin_type(self):
        self.assert_error(SOURCE.replace("random_routes", "random_route") + SINK,
                          r"{file}:2:8: error: sources\[0\]\.type: unknown source type `random_route` \(did you mean `random_routes`\?\)")

    def test_duplicate_names(self):
        self.assert_error(SOURCE + SINK + SINK, r"{file}:8:1: error: stdout: duplicate name")

    def test_unset_variable(self):
        env = {"SLUICE_NOT_SET_ANYWHERE": ""}
        self.assert_error('[kafka]\nbootstrap_servers = "${SLUICE_NOT_SET_ANYWHERE}"\n' + SOURCE + SINK,
                          r"{file}:2:21: error: kafka\.bootstrap_servers: environment variable `SLUICE_NOT_SET_ANYWHERE` is not set",
                          env=env)

    def test_out_of_range(self):
        self.assert_error(SOURCE.replace("count = 1", "invalid_ratio = 1.5") + SINK,
                          r"{file}:4:17: error: sources\[0\]\.invalid_ratio: must be at most 1")

    def test_toml_syntax_error(self):
        self.assert_error(SOURCE + '[[sinks]]\ntype = "stdout\n', r"{file}:6:\d+: error: ")

    def test_all_errors_are_reported_at_once(self):
        stderr = self.assert_error(SOURCE.replace("count = 1", "count = -1\ncuont = 2") +
                                   SINK.replace("stdout", "stdot"), r"error")
        self.assertEqual(len(re.findall(r": error: ", stderr)), 3, stderr)

    def test_sink_on_undeclared_topic_is_a_warning_only(self):
        path = self.write("p.toml", SINK.replace('"routes"', '"elsewhere"'))
        proc = run("check", path)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertRegex(proc.stderr, re.escape(path) + r":1:1: warning: stdout: no source in this pipeline produces topic `elsewhere`")

    def test_run_refuses_host_steps_that_only_an_embedding_program_can_feed(self):
        # Nothing would push to the source: the run waited for ever.
        host_source = '[[sources]]\ntype = "host"\ntopic = "routes"\n'
        for text, where in ((host_source + SINK, r":1:1: error: sources\[0\]\.type: `host` is of type `host`, "
                                                 r"whose records only a program embedding sluice can push"),
                            (SOURCE + SINK.replace("stdout", "host"),
                             r":5:1: error: sinks\[0\]\.type: `host` is of type `host`, "
                             r"whose batches only a program embedding sluice can take")):
            path = self.write("p.toml", text)
            self.assertEqual(run("check", path).returncode, 0)  # a pipeline an embedding program may run
            proc = run("run", path, timeout=30)
            self.assertEqual(proc.returncode, 2, proc.stderr)
            self.assertRegex(proc.stderr, re.escape(path) + where)
            self.assertNotIn("starting", proc.stderr)

    def test_missing_file(self):
        proc = run("check", os.path.join(self.dir, "nope.toml"))
        self.assertEqual(proc.returncode, 2)
        self.assertIn("nope.toml: error: cannot read the pipeline file", proc.stderr)


class Secrets(TempDirTest):
    PASSWORD = "pa55-w0rd-never-shown"

    def check_silent(self, text, env=None, expect_rc=None):
        path = self.write("p.toml", text)
        for args in (["check", path], ["check", "--print", path], ["run", path]):
            proc = run(*args, env=env)
            if expect_rc is not None and args[0] == "check":
                self.assertEqual(proc.returncode, expect_rc, proc.stderr)
            self.assertNotIn(self.PASSWORD, proc.stdout + proc.stderr, args)
        return proc

    def test_sasl_password_is_masked_in_print_and_errors(self):
        text = f'[kafka]\nsasl_password = "{self.PASSWORD}"\nsasl_mechanism = "PLAN"\n' + SOURCE + SINK
        self.check_silent(text, expect_rc=2)
        good = text.replace('"PLAN"', '"PLAIN"')
        path = self.write("good.toml", good)
        proc = run("check", "--print", path, check=0)
        self.assertIn('sasl_password = "***"', proc.stdout)

    def test_secret_from_env_and_file_in_passthrough_are_masked(self):
        secret_file = self.write("secret", self.PASSWORD + "\n")
        text = ('[kafka]\nbootstrap_servers = "127.0.0.1:1"\n[kafka.librdkafka]\n'
                f'"sasl.password" = "${{file:{secret_file}}}"\n"ssl.key.password" = "${{PW}}"\n'
                '"no.such.property" = "x"\n' + SOURCE + SINK)
        proc = self.check_silent(text, env={"PW": self.PASSWORD}, expect_rc=2)
        # check and run both refuse the unknown librdkafka property, naming it, not the values
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("no.such.property", proc.stderr)

    def test_secret_in_a_wrong_choice_is_not_echoed(self):
        text = f'[kafka]\nsecurity_protocol = "{self.PASSWORD}"\n' + SOURCE + SINK
        path = self.write("p.toml", text)
        proc = run("check", path)
        self.assertEqual(proc.returncode, 2)
        # security_protocol is not secret, so its value may be echoed; the secret kind is not
        text = f'[kafka]\nsasl_password = {{ x = "{self.PASSWORD}" }}\n' + SOURCE + SINK
        self.check_silent(text, expect_rc=2)
