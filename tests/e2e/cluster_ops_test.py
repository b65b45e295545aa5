"""Operating a 3-process cluster: shutdown with live peers, Kafka-style ids.

Each test starts three real chronik-server processes from one TOML cluster
file (explicit Kafka, Raft and HTTP ports per peer) and drives them with
confluent-kafka.
"""

import os
import signal
import subprocess
import threading
import time

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

import harness
from harness import Broker, free_port, wait_until


def start_cluster(test, ids):
    """Writes a cluster file for `ids` and starts one process per id."""
    ports = {i: (free_port(), free_port(), free_port()) for i in ids}
    text = "enabled = true\nreplication_factor = 3\nmin_insync_replicas = 2\n"
    for node, (kafka, raft, http) in sorted(ports.items()):
        text += ('\n[[peers]]\nid = %d\naddr = "127.0.0.1:%d"\n'
                 'raft_port = %d\nhttp_port = %d\n' % (node, kafka, raft, http))
    path = os.path.join(harness.TMP, "%s-%d.toml" % (test.id(), os.getpid()))
    with open(path, "w") as f:
        f.write(text)
    brokers = {}
    for node in ids:
        broker = Broker("node%d" % node,
                        args=["--cluster-config=%s" % path,
                              "--node-id=%d" % node])
        broker.kafka_port, _, broker.http_port = ports[node]
        brokers[node] = broker.start(wait_ready=False)
    for broker in brokers.values():
        broker.wait_ready(timeout_s=30)
    return brokers


class ClusterOpsTest(harness.unittest.TestCase):

    def tearDown(self):
        for broker in getattr(self, "brokers", {}).values():
            if broker.alive():
                broker.kill9()

    def bootstrap(self, nodes=None):
        nodes = sorted(self.brokers) if nodes is None else nodes
        return ",".join(self.brokers[n].bootstrap for n in nodes)

    def sigterm_and_wait(self, node, timeout_s=10):
        """SIGTERMs `node`; returns its exit status and seconds taken."""
        broker = self.brokers[node]
        started = time.time()
        broker.proc.send_signal(signal.SIGTERM)
        try:
            code = broker.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            broker.kill9()
            self.fail("node %d still running %ss after SIGTERM:\n%s" %
                      (node, timeout_s, broker.log()[-5000:]))
        return code, time.time() - started

    def test_sigterm_with_live_peers_exits_zero_within_10s(self):
        # Issue 12: SIGTERM of a node whose peers are up crashed it (SIGSEGV:
        # a gRPC thread posted to the freed event loop while the peer
        # transport was torn down) or hung (the peers' streams kept the gRPC
        # server's shutdown waiting). Every node in turn, under produce load
        # so that Raft traffic flows both ways while it stops.
        self.brokers = start_cluster(self, (1, 2, 3))
        admin = AdminClient({"bootstrap.servers": self.bootstrap()})
        admin.create_topics([NewTopic("load", num_partitions=3,
                                      replication_factor=3)])["load"].result(
                                          timeout=20)
        stop = threading.Event()

        def load():
            producer = Producer({"bootstrap.servers": self.bootstrap(),
                                 "acks": "all", "linger.ms": 5,
                                 "message.timeout.ms": 20000})
            i = 0
            while not stop.is_set():
                try:
                    producer.produce("load", value=b"v%d" % i)
                    i += 1
                except BufferError:
                    pass
                producer.poll(0.001)
            producer.flush(5)

        loader = threading.Thread(target=load, daemon=True)
        loader.start()
        try:
            for round_number in range(2):
                for node in (1, 2, 3):
                    time.sleep(0.5)  # traffic flowing with every peer
                    code, seconds = self.sigterm_and_wait(node)
                    log = self.brokers[node].log()[-5000:]
                    self.assertGreaterEqual(
                        code, 0, "node %d died of signal %d on SIGTERM "
                        "(round %d):\n%s" % (node, -code, round_number, log))
                    self.assertEqual(code, 0, "node %d exit status:\n%s" %
                                     (node, log))
                    self.assertLess(seconds, 10)
                    self.assertIn("stopped", log)
                    self.brokers[node].start(wait_ready=True, timeout_s=30)
        finally:
            stop.set()
            loader.join(timeout=30)


if __name__ == "__main__":
    harness.main()
