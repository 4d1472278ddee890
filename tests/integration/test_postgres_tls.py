"""The PostgreSQL sink over TLS: sslmode=verify-full with a CA made here."""
import os
import pwd
import shutil
import subprocess

from harness import TempDirTest, run
from pg import Postgres


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_ca_and_server_cert(d, name):
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name} CA",
            "-keyout", f"{name}-ca.key", "-out", f"{name}-ca.pem", cwd=d)
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", f"{name}-server.key",
            "-out", f"{name}-server.csr", cwd=d)
    with open(os.path.join(d, "san.ext"), "w") as f:
        f.write("subjectAltName = DNS:localhost, IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", f"{name}-server.csr", "-CA", f"{name}-ca.pem", "-CAkey", f"{name}-ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", f"{name}-server.pem", cwd=d)


class Tls(TempDirTest):
    def test_verify_full_works_and_a_wrong_ca_fails_clearly(self):
        make_ca_and_server_cert(self.dir, "good")
        make_ca_and_server_cert(self.dir, "other")
        pg = Postgres(extra_conf="ssl = on\nssl_cert_file = 'server.pem'\nssl_key_file = 'server.key'\n",
                      before_start=lambda data: self.install_cert(data))
        self.addCleanup(pg.close)
        pg.sql("CREATE TABLE routes (seq bigint, user_id integer, ts timestamptz, lat float8, lon float8)")
        pipeline = self.write("p.toml", """
[[sources]]
type = "random_routes"
topic = "routes"
count = 1000
[[sinks]]
type = "postgres"
topic = "routes"
conninfo = "${PG_URI}"
table = "routes"
""")
        base = f"host=localhost port={pg.port} user=postgres dbname=postgres sslmode=verify-full"
        good = f"{base} sslrootcert={os.path.join(self.dir, 'good-ca.pem')}"
        run("run", pipeline, "--progress", "0s", env={"PG_URI": good}, check=0)
        self.assertEqual(pg.scalar("SELECT count(*) FROM routes"), "1000")
        # The server refuses connections without TLS (see install_cert), so the
        # run above was encrypted; without TLS sluice is turned away.
        plain = f"host=localhost port={pg.port} user=postgres dbname=postgres sslmode=disable"
        proc = run("run", pipeline, "--progress", "0s", env={"PG_URI": plain})
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn("no encryption", proc.stderr)
        wrong = f"{base} sslrootcert={os.path.join(self.dir, 'other-ca.pem')}"
        proc = run("run", pipeline, "--progress", "0s", env={"PG_URI": wrong})
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn("connecting to PostgreSQL", proc.stderr)
        self.assertIn("certificate verify failed", proc.stderr)

    def install_cert(self, data):
        with open(os.path.join(data, "pg_hba.conf"), "w") as f:
            f.write("local all all trust\n"
                    "hostssl all all 127.0.0.1/32 trust\nhostssl all all ::1/128 trust\n"
                    "hostnossl all all 127.0.0.1/32 reject\nhostnossl all all ::1/128 reject\n")
        for src, dst in (("good-server.pem", "server.pem"), ("good-server.key", "server.key")):
            path = os.path.join(data, dst)
            shutil.copy(os.path.join(self.dir, src), path)
            os.chmod(path, 0o600)
            if os.geteuid() == 0:
                pw = pwd.getpwnam("postgres")
                os.chown(path, pw.pw_uid, pw.pw_gid)
