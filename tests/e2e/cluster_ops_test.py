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
from harness import free_port, start_cluster, wait_until


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

    def test_broker_ids_from_zero(self):
        # Issue 12: --node-id=0 / id = 0 was refused; Kafka numbers brokers
        # from 0. Clients must see brokers 0, 1, 2 and use them.
        self.brokers = start_cluster(self, (0, 1, 2))
        admin = AdminClient({"bootstrap.servers": self.bootstrap()})
        self.assertEqual(sorted(admin.list_topics(timeout=10).brokers),
                         [0, 1, 2])
        admin.create_topics([NewTopic("from-zero", num_partitions=3,
                                      replication_factor=3)])[
                                          "from-zero"].result(timeout=20)

        def leaders():
            topic = admin.list_topics(topic="from-zero",
                                      timeout=10).topics["from-zero"]
            if len(topic.partitions) != 3:
                return None
            found = {p: topic.partitions[p].leader for p in topic.partitions}
            if min(found.values()) < 0:
                return None
            for p in topic.partitions.values():
                self.assertEqual(sorted(p.replicas), [0, 1, 2])
            return found

        found = wait_until(leaders, timeout_s=20, what="partition leaders")
        self.assertTrue(set(found.values()) <= {0, 1, 2}, found)
        # Node 0 leads something or not: produce through each node alone.
        delivered = []
        for node in (0, 1, 2):
            producer = Producer({"bootstrap.servers": self.bootstrap((node,)),
                                 "acks": "all", "enable.idempotence": True,
                                 "message.timeout.ms": 20000})
            for i in range(30):
                producer.produce("from-zero", partition=i % 3,
                                 value=b"n%d-%02d" % (node, i),
                                 on_delivery=lambda err, msg: delivered.append(
                                     err))
            self.assertEqual(producer.flush(30), 0)
        self.assertEqual(len(delivered), 90)
        self.assertEqual([e for e in delivered if e is not None], [])
        consumer = Consumer({"bootstrap.servers": self.bootstrap((0,)),
                             "group.id": "from-zero",
                             "enable.auto.commit": False})
        consumer.assign([TopicPartition("from-zero", p, 0) for p in range(3)])
        values = []
        for _ in range(300):
            if len(values) >= 90:
                break
            message = consumer.poll(0.1)
            if message is not None and message.error() is None:
                values.append(message.value())
        consumer.close()
        self.assertEqual(sorted(values),
                         sorted(b"n%d-%02d" % (n, i) for n in (0, 1, 2)
                                for i in range(30)))
        # The start line names node 0 by its Kafka id.
        self.assertIn(" node_id=0 ", self.brokers[0].log())

    def test_one_host_nodes_on_the_default_http_port_are_told_the_fix(self):
        # Issue 12: the seed's one-host commands (peers without http_port,
        # no --http-port) all took the default HTTP port; all but the first
        # failed with a bare "port in use". Now every such node is refused
        # before binding anything, saying how to fix it.
        ports = [(free_port(), free_port()) for _ in range(3)]
        text = "enabled = true\n"
        for node, (kafka, raft) in enumerate(ports, start=1):
            text += ('\n[[peers]]\nid = %d\naddr = "localhost:%d"\n'
                     'raft_port = %d\n' % (node, kafka, raft))
        path = os.path.join(harness.TMP, "seed-%d.toml" % os.getpid())
        with open(path, "w") as f:
            f.write(text)
        data = os.path.join(harness.TMP, "seed-data-%d" % os.getpid())
        result = subprocess.run(
            [harness.SERVER, "--cluster-config", path, "--node-id", "3",
             "--data-dir", data, "standalone"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=10)
        output = result.stdout.decode()
        self.assertEqual(result.returncode, 2, output)
        self.assertIn("default port 9644", output)
        self.assertIn("http_port = PORT", output)
        self.assertIn("--http-port=PORT", output)
        self.assertFalse(os.path.exists(data), "refused before the data dir")

    def test_taken_http_port_error_says_how_to_fix_it(self):
        with harness.socket.socket() as holder:
            holder.bind(("127.0.0.1", 0))
            holder.listen(1)
            taken = holder.getsockname()[1]
            result = subprocess.run(
                [harness.SERVER, "standalone", "--kafka-port=0",
                 "--http-port=%d" % taken, "--data-dir",
                 os.path.join(harness.TMP, "taken-%d" % os.getpid())],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=10)
        output = result.stdout.decode()
        self.assertEqual(result.returncode, 1, output)
        self.assertIn("http listener on 127.0.0.1:%d" % taken, output)
        self.assertIn("--http-port=PORT", output)
        self.assertIn("http_port = PORT", output)


if __name__ == "__main__":
    harness.main()
