"""Starts and stops real chronik-server processes for the end-to-end tests.

Every broker runs on free ports (--kafka-port=0 --http-port=0; the ports are
read back from the start line the server logs) with its data directory and
log file under $TEST_TMPDIR. The binary comes from $CHRONIK_SERVER (set by
run_py.sh from the Bazel data dependency).
"""

import os
import random
import re
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

SERVER = os.environ.get("CHRONIK_SERVER", "")
TMP = os.environ.get("TEST_TMPDIR", tempfile.gettempdir())
START_LINE = re.compile(
    r"started: chronik-server (\S+) (\w+) node_id=(\d+) "
    r"kafka=([\d.]+):(\d+) advertised=(\S+) http=([\d.]+):(\d+) "
    r"data_dir=(\S+)")


# Ports handed to a cluster's config before its nodes start come from below
# the kernel's ephemeral range (ip_local_port_range starts at 32768): a port
# the kernel picked with bind(0) can be given again to any outgoing
# connection, such as a starting peer's Raft dial, before the node that was
# meant to listen on it binds (CI saw "port ... is already in use" so).
FIXED_PORT_RANGE = (20000, 32768)
_handed_out_ports = set()
_port_random = random.Random(os.getpid() ^ time.time_ns())


def free_port():
    """A port no one listens on now, outside the ephemeral range, never
    returned twice by this process."""
    for _ in range(1000):
        port = _port_random.randrange(*FIXED_PORT_RANGE)
        if port in _handed_out_ports:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out_ports.add(port)
        return port
    raise AssertionError("no free port in %s after 1000 tries" %
                         (FIXED_PORT_RANGE,))


class Broker:
    """One chronik-server process. Restartable on the same data dir/ports.

    `host` is where clients and /health reach it (its --bind-addr when not
    127.0.0.1); `wrapper` prefixes the command (e.g. `ip netns exec NS`,
    which execs in place, so the process is still the broker itself)."""

    def __init__(self, name="broker", args=(), data_dir=None,
                 host="127.0.0.1", wrapper=()):
        self.name = name
        self.args = list(args)
        self.host = host
        self.wrapper = list(wrapper)
        self.data_dir = data_dir or tempfile.mkdtemp(prefix=name + "-", dir=TMP)
        self.kafka_port = 0
        self.http_port = 0
        self.proc = None
        self.log_path = None
        self.starts = 0

    # --- lifecycle -------------------------------------------------------
    def start(self, wait_ready=True, timeout_s=15):
        self.starts += 1
        self.log_path = os.path.join(
            TMP, "%s-%d-%s.log" % (self.name, self.starts, os.getpid()))
        log = open(self.log_path, "wb")
        cmd = self.wrapper + [SERVER, "standalone",
                              "--kafka-port=%d" % self.kafka_port,
                              "--http-port=%d" % self.http_port,
                              "--data-dir=%s" % self.data_dir] + self.args
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=log)
        log.close()
        deadline = time.time() + timeout_s
        while time.time() < deadline:
            match = START_LINE.search(self.log())
            if match:
                # Restarts keep the ports, so clients' metadata stays valid.
                self.kafka_port = int(match.group(5))
                self.http_port = int(match.group(8))
                break
            if self.proc.poll() is not None:
                raise AssertionError("%s exited with %s before starting:\n%s" %
                                     (self.name, self.proc.returncode,
                                      self.log()))
            time.sleep(0.02)
        else:
            raise AssertionError("%s printed no start line in %ss:\n%s" %
                                 (self.name, timeout_s, self.log()))
        if wait_ready:
            self.wait_ready(timeout_s)
        return self

    def wait_ready(self, timeout_s=15):
        deadline = time.time() + timeout_s
        while time.time() < deadline:
            status, _ = self.http_get("/ready")
            if status == 200:
                return
            if self.proc.poll() is not None:
                raise AssertionError("%s died:\n%s" % (self.name, self.log()))
            time.sleep(0.02)
        raise AssertionError("%s not ready after %ss:\n%s" %
                             (self.name, timeout_s, self.log()))

    def stop(self, sig=signal.SIGTERM, timeout_s=15):
        """Signals the broker and returns its exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("%s ignored %s for %ss:\n%s" %
                                 (self.name, sig, timeout_s, self.log()))

    def kill9(self):
        self.proc.kill()
        self.proc.wait()

    def restart(self, sig=signal.SIGTERM):
        code = self.stop(sig)
        self.start()
        return code

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    # --- access ----------------------------------------------------------
    @property
    def bootstrap(self):
        return "%s:%d" % (self.host, self.kafka_port)

    def log(self):
        if not self.log_path or not os.path.exists(self.log_path):
            return ""
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def http_get(self, path, timeout_s=5):
        try:
            with urllib.request.urlopen(
                    "http://%s:%d%s" % (self.host, self.http_port, path),
                    timeout=timeout_s) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()
        except (urllib.error.URLError, ConnectionError, socket.timeout):
            return None, ""

    def metric(self, name_with_labels):
        """Value of one sample of /metrics, or None."""
        _, body = self.http_get("/metrics")
        for line in body.splitlines():
            if line.startswith(name_with_labels + " "):
                return float(line.split()[-1])
        return None


def start_cluster(test, ids, args=()):
    """Writes a cluster file for `ids` (replication factor 3, min ISR 2,
    explicit Kafka, Raft and HTTP ports per peer) and starts one process per
    id (with the extra flags `args`); returns {id: Broker} once every node is
    ready."""
    ports = {i: (free_port(), free_port(), free_port()) for i in ids}
    text = "enabled = true\nreplication_factor = 3\nmin_insync_replicas = 2\n"
    for node, (kafka, raft, http) in sorted(ports.items()):
        text += ('\n[[peers]]\nid = %d\naddr = "127.0.0.1:%d"\n'
                 'raft_port = %d\nhttp_port = %d\n' % (node, kafka, raft, http))
    path = os.path.join(TMP, "%s-%d.toml" % (test.id(), os.getpid()))
    with open(path, "w") as f:
        f.write(text)
    brokers = {}
    for node in ids:
        broker = Broker("node%d" % node,
                        args=["--cluster-config=%s" % path,
                              "--node-id=%d" % node] + list(args))
        broker.kafka_port, _, broker.http_port = ports[node]
        brokers[node] = broker.start(wait_ready=False)
    for broker in brokers.values():
        broker.wait_ready(timeout_s=30)
    return brokers


class BrokerTestCase(unittest.TestCase):
    """One broker per test class, stopped with SIGTERM (which must exit 0)."""

    broker_args = ()

    @classmethod
    def setUpClass(cls):
        cls.broker = Broker(cls.__name__, args=cls.broker_args).start()

    @classmethod
    def tearDownClass(cls):
        code = cls.broker.stop()
        if code != 0:
            raise AssertionError("broker exited %s on SIGTERM:\n%s" %
                                 (code, cls.broker.log()[-5000:]))

    def setUp(self):
        self.assertTrue(self.broker.alive(),
                        "broker died earlier:\n" + self.broker.log()[-5000:])

    def tearDown(self):
        # Whatever a test did, the broker must still be running.
        if not self.broker.alive():
            self.fail("broker died during the test:\n" +
                      self.broker.log()[-5000:])

    def topic(self, base):
        """A topic name unique within this test run."""
        return "%s-%s-%d" % (base, self.id().split(".")[-1].replace("_", "-"),
                             int(time.time() * 1000) % 100000)


def wait_until(predicate, timeout_s=10, interval_s=0.05, what="condition"):
    deadline = time.time() + timeout_s
    last = None
    while time.time() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval_s)
    raise AssertionError("timed out after %ss waiting for %s (last: %r)" %
                         (timeout_s, what, last))


def main():
    unittest.main(verbosity=2)
