"""The chronik-server process: start line, free ports, flags, taken ports,
/health /ready /metrics, and clean shutdown on SIGTERM/SIGINT."""

import os
import signal
import socket
import subprocess
import time
import unittest
import urllib.error
import urllib.request

import harness
from harness import SERVER, Broker, wait_until


def port_is_free(port):
    """Whether a server (which sets SO_REUSEADDR, as chronik does) can bind."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def run(args, timeout_s=5):
    start = time.time()
    proc = subprocess.run([SERVER] + args, capture_output=True, text=True,
                          timeout=timeout_s)
    return proc.returncode, proc.stdout + proc.stderr, time.time() - start


class ProcessTest(unittest.TestCase):

    def test_start_line_names_version_listeners_and_data_dir(self):
        broker = Broker("startline").start()
        try:
            match = harness.START_LINE.search(broker.log())
            self.assertIsNotNone(match)
            self.assertRegex(match.group(1), r"^\d+\.\d+")
            self.assertEqual(match.group(2), "standalone")
            self.assertNotEqual(broker.kafka_port, 0)
            self.assertNotEqual(broker.http_port, 0)
            self.assertNotEqual(broker.kafka_port, broker.http_port)
            self.assertEqual(os.path.realpath(match.group(9)),
                             os.path.realpath(broker.data_dir))
            # Exactly one start line.
            self.assertEqual(broker.log().count("started: "), 1)
        finally:
            self.assertEqual(broker.stop(), 0, broker.log())

    def test_help_lists_every_flag(self):
        code, out, _ = run(["--help"])
        self.assertEqual(code, 0, out)
        for flag in ("--kafka-port", "--advertised-addr", "--data-dir",
                     "--http-port", "--log-level", "--node-id",
                     "--auto-create-topics"):
            self.assertIn(flag, out)

    def test_bad_flag_values_exit_non_zero_naming_the_flag(self):
        for args, flag in ((["--kafka-port=notaport"], "--kafka-port"),
                           (["--kafka-port=70000"], "--kafka-port"),
                           (["--log-level=loud"], "--log-level"),
                           (["--no-such-flag=1"], "--no-such-flag")):
            code, out, seconds = run(["standalone"] + args)
            self.assertNotEqual(code, 0, out)
            self.assertIn(flag, out)
            self.assertLess(seconds, 2)

    def test_environment_variable_is_read_and_flag_wins(self):
        env = dict(os.environ, CHRONIK_LOG_LEVEL="loud")
        proc = subprocess.run([SERVER, "standalone"], env=env,
                              capture_output=True, text=True, timeout=5)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("CHRONIK_LOG_LEVEL", proc.stderr)

    def test_taken_kafka_port_exits_fast_naming_listener_and_port(self):
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            http_port = harness.free_port()
            data = os.path.join(harness.TMP, "taken-kafka")
            code, out, seconds = run([
                "standalone", "--kafka-port=%d" % port,
                "--http-port=%d" % http_port, "--data-dir=" + data])
            self.assertNotEqual(code, 0)
            self.assertLess(seconds, 1.5)
            self.assertIn("kafka", out)
            self.assertIn(str(port), out)
            self.assertTrue(port_is_free(http_port), "http port stayed bound")

    def test_taken_http_port_exits_fast_and_releases_kafka_port(self):
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            kafka_port = harness.free_port()
            data = os.path.join(harness.TMP, "taken-http")
            code, out, seconds = run([
                "standalone", "--kafka-port=%d" % kafka_port,
                "--http-port=%d" % port, "--data-dir=" + data])
            self.assertNotEqual(code, 0)
            self.assertLess(seconds, 1.5)
            self.assertIn("http", out)
            self.assertIn(str(port), out)
            self.assertTrue(port_is_free(kafka_port), "kafka port stayed bound")

    def test_second_server_on_same_data_dir_is_refused(self):
        broker = Broker("lock").start()
        try:
            code, out, _ = run(["standalone", "--kafka-port=0", "--http-port=0",
                                "--data-dir=" + broker.data_dir])
            self.assertNotEqual(code, 0)
            self.assertIn("in use", out)
            self.assertTrue(broker.alive())
        finally:
            self.assertEqual(broker.stop(), 0)

    def test_http_endpoints(self):
        broker = Broker("http").start()
        try:
            self.assertEqual(broker.http_get("/health"), (200, "ok\n"))
            self.assertEqual(broker.http_get("/ready")[0], 200)
            status, body = broker.http_get("/metrics")
            self.assertEqual(status, 200)
            for name in ("chronik_bytes_in_total", "chronik_bytes_out_total",
                         "chronik_connections", "chronik_partitions",
                         "chronik_log_bytes", "chronik_ready 1"):
                self.assertIn(name, body)
            for line in body.splitlines():
                if not line.startswith("#"):
                    self.assertTrue(line.startswith("chronik_"), line)
            self.assertEqual(broker.http_get("/nothing-here")[0], 404)
            # Oversized request: refused, server unharmed.
            with socket.create_connection(("127.0.0.1", broker.http_port)) as s:
                s.sendall(b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\n\r\n")
                reply = s.recv(100)
                self.assertTrue(reply.startswith(b"HTTP/1.1 431"), reply)
            self.assertEqual(broker.http_get("/health")[0], 200)
        finally:
            self.assertEqual(broker.stop(), 0)

    def test_http_on_loopback_with_a_token(self):
        token_file = os.path.join(harness.TMP, "token-%d" % os.getpid())
        with open(token_file, "w") as f:
            f.write("s3cret-token\n")
        broker = Broker("http-token", args=[
            "--bind-addr=127.0.0.1", "--http-bind-addr=127.0.0.1",
            "--http-token-file=" + token_file]).start(wait_ready=False)

        def get(path, token=None):
            request = urllib.request.Request(
                "http://127.0.0.1:%d%s" % (broker.http_port, path))
            if token is not None:
                request.add_header("Authorization", "Bearer " + token)
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    return response.status, response.read().decode()
            except urllib.error.HTTPError as error:
                return error.code, error.read().decode()
        try:
            wait_until(lambda: get("/ready", "s3cret-token")[0] == 200,
                       timeout_s=15, what="ready with the token")
            self.assertEqual(get("/health"), (200, "ok\n"))  # probes
            for path in ("/ready", "/metrics", "/v1/cluster"):
                self.assertEqual(get(path)[0], 401, path)
                self.assertEqual(get(path, "wrong-token")[0], 401, path)
                self.assertEqual(get(path, "s3cret-token")[0], 200, path)
            status, body = get("/metrics", "s3cret-token")
            self.assertNotIn("s3cret", body)
            self.assertIn("http=127.0.0.1:%d" % broker.http_port, broker.log())
        finally:
            self.assertEqual(broker.stop(), 0)
        # A token file that cannot be read stops the start, naming it.
        code, output, _ = run(["--http-token-file=/nonexistent/token",
                               "--kafka-port=0", "--http-port=0",
                               "--data-dir=" + os.path.join(
                                   harness.TMP, "tok-%d" % os.getpid())])
        self.assertNotEqual(code, 0)
        self.assertIn("/nonexistent/token", output)

    def test_sigterm_and_sigint_exit_zero_and_release_ports(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            broker = Broker("signal").start()
            # An idle client connection must not hold up the shutdown.
            idle = socket.create_connection(("127.0.0.1", broker.kafka_port))
            start = time.time()
            self.assertEqual(broker.stop(sig), 0, broker.log())
            self.assertLess(time.time() - start, 5)
            idle.close()
            self.assertIn("stopped", broker.log())
            self.assertTrue(port_is_free(broker.kafka_port))
            self.assertTrue(port_is_free(broker.http_port))

    def test_data_dir_is_created(self):
        data = os.path.join(harness.TMP, "nested", "deeper", "data")
        broker = Broker("mkdir", data_dir=data).start()
        try:
            self.assertTrue(os.path.isdir(data))
        finally:
            self.assertEqual(broker.stop(), 0)


if __name__ == "__main__":
    harness.main()
