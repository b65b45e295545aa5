"""Growing and shrinking a running cluster of real processes (issue 12).

Three nodes start from a three-peer cluster file and take acks=all writes
from an idempotent confluent-kafka producer for the whole test. Node 4
starts with --join and a four-peer file; every node's GET /v1/cluster comes
to show the metadata group's voters [1,2,3,4], and the old nodes say that
their file disagrees with the running membership. kafkajs moves a partition
onto node 4 (AlterPartitionReassignments), ElectLeaders makes node 4 its
leader and a consumer bootstrapped from node 4 alone reads it. (Started
without --join first, node 4 stays unready and says why.) An old node
restarted with the four-peer file rejoins (its metadata-voters file keeps the
initial voters). Then the controller is decommissioned by an HTTP POST
(after a POST cancelled by DELETE): its replicas move away, it leaves the
metadata group and the broker list, reports itself removed and not ready, and
is stopped; every acknowledged record is then read back once, in order, at
its acknowledged offset. The HTTP errors (404, 405, 409) are asserted on the
way, and a node started with --join whose peers are unreachable is shown to
stay unready instead of founding a cluster of its own.

The producer runs with librdkafka's idempotence debug log: it must never
have to bump its epoch. (It did when a partition leader handing over its
leadership for a reassignment answered OUT_OF_ORDER_SEQUENCE_NUMBER to the
batch after one it refused; the re-sent batches were then stored twice.)
"""

import json
import logging
import os
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from kafka.admin import KafkaAdminClient

import harness
import kafka_wire
from harness import Broker, free_port, wait_until

JS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "js")
TOPIC = "grow"
PARTITIONS = 6


def write_cluster_file(name, ports, ids):
    """A cluster file listing `ids` of `ports` ({id: (kafka, raft, http)})."""
    text = "enabled = true\nreplication_factor = 3\nmin_insync_replicas = 2\n"
    for node in sorted(ids):
        kafka, raft, http = ports[node]
        text += ('\n[[peers]]\nid = %d\naddr = "127.0.0.1:%d"\n'
                 'raft_port = %d\nhttp_port = %d\n' % (node, kafka, raft, http))
    path = os.path.join(harness.TMP, "%s-%d.toml" % (name, os.getpid()))
    with open(path, "w") as f:
        f.write(text)
    return path


def http(broker, method, path):
    """(status, body) of one HTTP request to `broker`'s HTTP port."""
    request = urllib.request.Request(
        "http://%s:%d%s" % (broker.host, broker.http_port, path),
        data=b"" if method in ("POST", "DELETE") else None, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def cluster_status(broker):
    status, body = broker.http_get("/v1/cluster")
    return json.loads(body) if status == 200 else None


class EpochBumps(logging.Handler):
    """librdkafka's idempotence log lines (debug=eos) that say it bumped
    its producer epoch: it does so when a broker's answer leaves it unsure
    what was stored (e.g. OUT_OF_ORDER_SEQUENCE_NUMBER after a refused
    batch), and re-sends what it had in flight under the new epoch, which
    stores twice whatever the broker had after all."""

    def __init__(self):
        super().__init__()
        self.lines = []

    def emit(self, record):
        message = record.getMessage()
        if "epoch bump" in message or "ERRSEQ" in message:
            self.lines.append(message)


class Load:
    """An acks=all idempotent producer in a thread, round robin over the
    partitions, keeping every acknowledgement: (partition, offset, value)."""

    def __init__(self, bootstrap):
        self.acked = []
        self.errors = []
        self.stop = threading.Event()
        self.bumps = EpochBumps()
        logger = logging.getLogger("membership-producer")
        logger.propagate = False
        logger.setLevel(logging.DEBUG)  # librdkafka's debug lines
        logger.addHandler(self.bumps)
        self.producer = Producer({"bootstrap.servers": bootstrap,
                                  "acks": "all", "enable.idempotence": True,
                                  "linger.ms": 5,
                                  "message.timeout.ms": 60000,
                                  "debug": "eos"}, logger=logger)
        self.thread = threading.Thread(target=self.run, daemon=True)

    def on_delivery(self, err, msg):
        if err is not None:
            self.errors.append(str(err))
            return
        self.acked.append((msg.partition(), msg.offset(), msg.value()))

    def run(self):
        i = 0
        while not self.stop.is_set():
            try:
                self.producer.produce(TOPIC, partition=i % PARTITIONS,
                                      value=b"r%08d" % i,
                                      on_delivery=self.on_delivery)
                i += 1
            except BufferError:
                pass
            self.producer.poll(0)
            time.sleep(0.002)
        self.producer.flush(60)

    def finish(self):
        self.stop.set()
        self.thread.join(timeout=90)


class MembershipTest(harness.unittest.TestCase):

    def tearDown(self):
        for broker in getattr(self, "brokers", {}).values():
            if broker.alive():
                broker.kill9()

    def bootstrap(self, nodes):
        return ",".join(self.brokers[n].bootstrap for n in sorted(nodes))

    def live(self):
        return [n for n, b in sorted(self.brokers.items()) if b.alive()]

    def logs(self):
        return "\n".join("== node %d\n%s" % (n, b.log()[-4000:])
                         for n, b in sorted(self.brokers.items()))

    def wait_everywhere(self, nodes, predicate, what, timeout_s=30):
        """Until predicate(status) holds for /v1/cluster of every node."""
        def check():
            for node in nodes:
                status = cluster_status(self.brokers[node])
                if status is None or not predicate(status):
                    return None
            return True
        try:
            wait_until(check, timeout_s=timeout_s, interval_s=0.2, what=what)
        except AssertionError as error:
            raise AssertionError("%s\n%s\n%s" % (error, {
                n: cluster_status(self.brokers[n]) for n in nodes},
                self.logs())) from None

    def controller(self, node):
        return cluster_status(self.brokers[node])["metadata"]["leader"]

    def test_add_then_decommission_a_broker_under_load(self):
        node_js = shutil.which("node")
        if node_js is None or not os.path.isdir(
                os.path.join(JS_DIR, "node_modules", "kafkajs")):
            self.fail("node or tests/e2e/js/node_modules/kafkajs missing: "
                      "run tools/setup")
        ports = {i: (free_port(), free_port(), free_port())
                 for i in (1, 2, 3, 4)}
        old_file = write_cluster_file("three", ports, (1, 2, 3))
        new_file = write_cluster_file("four", ports, (1, 2, 3, 4))
        self.brokers = {}
        for node in (1, 2, 3, 4):
            broker = Broker("node%d" % node, args=[
                "--cluster-config=%s" % (new_file if node == 4 else old_file),
                "--node-id=%d" % node] + (["--join=true"] if node == 4 else []))
            broker.kafka_port, _, broker.http_port = ports[node]
            self.brokers[node] = broker
        for node in (1, 2, 3):
            self.brokers[node].start(wait_ready=False)
        for node in (1, 2, 3):
            self.brokers[node].wait_ready(timeout_s=30)
        admin = AdminClient({"bootstrap.servers": self.bootstrap((1, 2, 3))})
        admin.create_topics([NewTopic(TOPIC, num_partitions=PARTITIONS,
                                      replication_factor=3)])[TOPIC].result(
                                          timeout=20)
        load = Load(self.bootstrap((1, 2, 3)))
        load.thread.start()
        try:
            self.node_js = node_js
            self.grow()
            victim = self.restart_with_new_file(new_file)
            self.decommission(victim)
        finally:
            load.finish()
        self.assertEqual(load.errors, [], "no acks=all write failed")
        self.assertFalse(load.bumps.lines, "the producer had to bump its "
                         "epoch:\n" + "\n".join(load.bumps.lines))
        self.assertGreater(len(load.acked), 500, "the load ran")
        self.read_back(load.acked)

    def grow(self):
        """Node 4 joins; a partition moves onto it and it leads it."""
        old = (1, 2, 3)
        self.wait_everywhere(old, lambda s: s["metadata"]["voters"] ==
                             [1, 2, 3] and s["metadata"]["config_mismatch"]
                             is None, "three voters, file and group agree")
        self.forgot_join()
        joined_at = time.time()
        self.brokers[4].start(wait_ready=False)
        self.brokers[4].wait_ready(timeout_s=30)
        self.wait_everywhere((1, 2, 3, 4), lambda s: s["metadata"]["voters"]
                             == [1, 2, 3, 4] and s["metadata"]["learners"]
                             == [], "voters [1,2,3,4] on every node")
        print("node 4 a voter everywhere after %.1f s" %
              (time.time() - joined_at))
        for node in old:
            mismatch = cluster_status(self.brokers[node])["metadata"][
                "config_mismatch"]
            self.assertIsNotNone(mismatch, "node %d" % node)
            self.assertIn("[1,2,3]", mismatch)
            self.assertIn("[1,2,3,4]", mismatch)
            self.assertIn("the cluster file lists brokers [1,2,3] but the "
                          "metadata group's members are [1,2,3,4]",
                          self.brokers[node].log())
        self.assertIsNone(
            cluster_status(self.brokers[4])["metadata"]["config_mismatch"])
        joined = cluster_status(self.brokers[4])
        self.assertEqual(sorted(b["id"] for b in joined["brokers"]),
                         [1, 2, 3, 4])
        self.assertFalse(joined["removed"])
        # The joiner founded nothing: its membership came with a snapshot.
        self.assertFalse(os.path.exists(os.path.join(
            self.brokers[4].data_dir, "metadata-voters")))

        # Move partition 0 onto node 4 (kafkajs), make node 4 its leader.
        admin = AdminClient({"bootstrap.servers": self.bootstrap((1, 2, 3))})
        replicas = admin.list_topics(topic=TOPIC, timeout=10).topics[
            TOPIC].partitions[0].replicas
        self.move(0, [4] + list(replicas[1:]))
        wait_until(lambda: self.elect_on_4(), timeout_s=20,
                   what="node 4 leads %s-0" % TOPIC)
        consumer = Consumer({"bootstrap.servers": self.bootstrap((4,)),
                             "group.id": "from-4",
                             "enable.auto.commit": False})
        consumer.assign([TopicPartition(TOPIC, 0, 0)])
        got = []
        wait_until(lambda: got.extend(
            m for m in consumer.consume(100, 0.5) if m.error() is None)
            or len(got) >= 20, timeout_s=20, what="records of partition 0 "
            "from node 4")
        consumer.close()
        self.assertEqual([m.offset() for m in got],
                         list(range(len(got))), "from offset 0, in order")
        self.assertGreaterEqual(self.brokers[4].metric("chronik_partitions"),
                                1)

    def forgot_join(self):
        """Node 4 started without --join (on a data directory thrown away
        after) founds nothing the others know: it stays not ready and says
        why; the cluster does not change."""
        node4 = self.brokers[4]
        forgot = Broker("forgot4", args=[a for a in node4.args
                                         if a != "--join=true"])
        forgot.kafka_port, forgot.http_port = node4.kafka_port, node4.http_port
        forgot.start(wait_ready=False)
        try:
            wait_until(lambda: "not ready: no controller" in forgot.log(),
                       timeout_s=15, what="node 4 without --join says why")
            self.assertEqual(forgot.http_get("/ready")[0], 503)
            self.assertIn("must be started with --join", forgot.log())
        finally:
            self.assertEqual(forgot.stop(), 0, forgot.log())
        for node in (1, 2, 3):
            status = cluster_status(self.brokers[node])
            self.assertEqual(status["metadata"]["voters"], [1, 2, 3])
            self.assertEqual(sorted(b["id"] for b in status["brokers"]),
                             [1, 2, 3])

    def move(self, partition, target):
        """kafkajs moves `partition` to `target` and waits until done."""
        proc = subprocess.run(
            [self.node_js, os.path.join(JS_DIR, "move_partition.js"),
             self.bootstrap(self.live()), TOPIC, str(partition),
             ",".join(map(str, target))],
            capture_output=True, text=True, timeout=90)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        print("kafkajs moved %s-%d to %s: %s" % (TOPIC, partition, target,
                                                 proc.stdout.strip()))

    def elect_on_4(self):
        """ElectLeaders (preferred) for partition 0; True once node 4 leads
        it in the Metadata of every node."""
        client = kafka_wire.Connection(self.brokers[4].kafka_port,
                                       timeout_s=30)
        try:
            error, results = client.elect_leaders(1, {TOPIC: [0]})
        finally:
            client.close()
        self.assertEqual(error, 0)
        code = results[(TOPIC, 0)][0]
        # 84 ELECTION_NOT_NEEDED: done; 80 PREFERRED_LEADER_NOT_AVAILABLE
        # (not in the ISR yet) and 7 REQUEST_TIMED_OUT: asked again.
        self.assertIn(code, (0, 84, 80, 7), results)
        if code in (80, 7):
            return False
        for node in (1, 2, 3, 4):
            status = cluster_status(self.brokers[node])
            leaders = {(p["topic"], p["partition"]): p["leader"]
                       for p in status["partitions"]}
            if leaders.get((TOPIC, 0)) != 4:
                return False
        return True

    def restart_with_new_file(self, new_file):
        """Restarts old node 2 with the four-peer file; returns the node to
        decommission: the controller (node 1 when node 4 leads)."""
        broker = self.brokers[2]
        voters_file = os.path.join(broker.data_dir, "metadata-voters")
        with open(voters_file) as f:
            self.assertEqual(f.read(), "chronik-metadata-voters 1 1,2,3\n")
        self.assertEqual(broker.stop(), 0, broker.log()[-4000:])
        broker.args = ["--cluster-config=%s" % new_file, "--node-id=2"]
        broker.start(wait_ready=True, timeout_s=30)
        with open(voters_file) as f:
            self.assertEqual(f.read(), "chronik-metadata-voters 1 1,2,3\n",
                             "the initial voters never change")
        self.wait_everywhere((1, 2, 3, 4), lambda s: s["metadata"]["voters"]
                             == [1, 2, 3, 4], "node 2 back as a voter")
        self.wait_everywhere((2,), lambda s: s["metadata"]["config_mismatch"]
                             is None, "node 2's file agrees now")
        controller = self.controller(3)
        return controller if controller in (1, 2, 3) else 1

    def decommission(self, victim):
        others = [n for n in (1, 2, 3, 4) if n != victim]
        at = self.brokers[others[0]]
        path = "/v1/brokers/%d/decommission" % victim
        print("decommissioning broker %d (controller %d), asking node %d" %
              (victim, self.controller(others[0]), others[0]))

        status, body = http(at, "POST", "/v1/brokers/99/decommission")
        self.assertEqual((status, body), (404, "broker 99 is not registered\n"))
        status, body = http(at, "GET", path)
        self.assertEqual(status, 405, body)
        self.assertEqual(cluster_status(at)["metadata"]["voters"], [1, 2, 3, 4])

        def decommissioning(value):
            return lambda s: [b["decommissioning"] for b in s["brokers"]
                              if b["id"] == victim] == [value]

        # Asked, then cancelled (DELETE), then asked again for good.
        status, body = http(at, "POST", path)
        self.assertEqual(status, 202, body)
        self.wait_everywhere((1, 2, 3, 4), decommissioning(True),
                             "broker %d decommissioning" % victim)
        status, body = http(at, "DELETE", path)
        self.assertEqual(status, 202, body)
        self.assertIn("cancelling", body)
        self.wait_everywhere((1, 2, 3, 4), decommissioning(False),
                             "the decommission of %d cancelled" % victim)
        self.assertIn(victim, cluster_status(at)["metadata"]["voters"])
        # The moves under way when it was cancelled finished; one partition
        # goes back onto it, so that the decommission has replicas to move.
        self.move(1, [victim] + [n for n in others if n != 4][:2])
        def moves_of_1():
            return sum(b.log().count("decommission: moving %s-1 " % TOPIC)
                       for b in self.brokers.values())
        moved_before = moves_of_1()
        started = time.time()
        status, body = http(self.brokers[victim], "POST", path)
        self.assertEqual(status, 202, body)
        self.assertIn("GET /v1/cluster", body)

        def gone(s):
            return (victim not in [b["id"] for b in s["brokers"]] and
                    victim not in s["metadata"]["voters"] and
                    victim not in s["metadata"]["learners"] and
                    all(victim not in p["replicas"] and victim not in p["isr"]
                        and p["leader"] in others for p in s["partitions"]))
        self.wait_everywhere(others, gone, "broker %d gone" % victim,
                             timeout_s=60)
        print("broker %d removed after %.1f s" % (victim, time.time() - started))
        self.assertGreater(moves_of_1(), moved_before,
                           "the controller moved %s-1 off broker %d" %
                           (TOPIC, victim))
        self.wait_everywhere(others, lambda s: s["metadata"]["voters"] ==
                             others and not s["removed"], "voters %s" % others)
        removed = self.brokers[victim]
        wait_until(lambda: (cluster_status(removed) or {}).get("removed"),
                   timeout_s=20, what="node %d reports removed" % victim)
        self.assertEqual(removed.http_get("/ready")[0], 503)
        self.assertIn("was decommissioned and is no longer a member of the "
                      "cluster: stop it", removed.log())

        # What clients see: no broker `victim`, no partition naming it.
        admin = AdminClient({"bootstrap.servers": self.bootstrap(others)})
        metadata = admin.list_topics(timeout=10)
        self.assertEqual(sorted(metadata.brokers), others)
        for partition in metadata.topics[TOPIC].partitions.values():
            self.assertNotIn(victim, partition.replicas)
            self.assertNotIn(victim, partition.isrs)
            self.assertIn(partition.leader, others)
            self.assertEqual(len(partition.replicas), 3)
        kafka_python = KafkaAdminClient(
            bootstrap_servers=self.bootstrap(others))
        described = kafka_python.describe_cluster()
        kafka_python.close()
        self.assertEqual(sorted(b["node_id"] for b in described["brokers"]),
                         others)

        # Errors now: the removed broker is unknown; one more would leave
        # fewer brokers than the topic's replication factor.
        status, body = http(at, "POST", path)
        self.assertEqual(status, 404, body)
        self.assertIn("was removed from the cluster", body)
        status, body = http(at, "POST",
                            "/v1/brokers/%d/decommission" % others[-1])
        self.assertEqual((status, body), (409, (
            "topic '%s' has replication factor 3 but only 2 live brokers "
            "would remain without broker %d\n" % (TOPIC, others[-1]))))
        self.assertIn("refused: topic '%s' has replication factor 3" % TOPIC,
                      at.log())
        self.assertEqual(removed.stop(), 0, removed.log()[-4000:])
        # The files now disagree with the membership: the nodes say so.
        for node in others:
            mismatch = cluster_status(self.brokers[node])["metadata"][
                "config_mismatch"]
            self.assertIsNotNone(mismatch, "node %d" % node)
            self.assertIn("members are %s" % json.dumps(others).replace(
                " ", ""), mismatch)

    def read_back(self, acked):
        """Every acknowledged record once, in order, at its offset."""
        survivors = self.live()
        expected = {p: sorted((o, v) for q, o, v in acked if q == p)
                    for p in range(PARTITIONS)}
        consumer = Consumer({"bootstrap.servers": self.bootstrap(survivors),
                             "group.id": "reader",
                             "enable.auto.commit": False})
        highs = {}
        for p in range(PARTITIONS):
            _, highs[p] = consumer.get_watermark_offsets(
                TopicPartition(TOPIC, p), timeout=10)
        consumer.assign([TopicPartition(TOPIC, p, 0)
                         for p in range(PARTITIONS)])
        got = {p: [] for p in range(PARTITIONS)}

        def drained():
            for m in consumer.consume(500, 0.5):
                if m.error() is None:
                    got[m.partition()].append((m.offset(), m.value()))
            return all(len(got[p]) >= max(len(expected[p]), highs[p])
                       for p in range(PARTITIONS))
        wait_until(drained, timeout_s=60, what="every acked record")
        consumer.close()
        for p in range(PARTITIONS):
            extra = sorted(set(got[p]) - set(expected[p]))
            missing = sorted(set(expected[p]) - set(got[p]))
            self.assertEqual(
                (highs[p], extra, missing), (len(expected[p]), [], []),
                "partition %d: high watermark, records stored but not acked "
                "(offset, value), acked but not read" % p)
            self.assertEqual(got[p], expected[p], "partition %d" % p)
            values = [v for _, v in got[p]]
            self.assertEqual(values, sorted(set(values)),
                             "partition %d: once each, in order" % p)
        print("read back %d acknowledged records" % len(acked))

    def test_join_with_unreachable_peers_stays_unready(self):
        # Peers 1..3 are listed but nothing listens on their ports: the
        # joiner must neither found a cluster of its own nor become ready.
        ports = {i: (free_port(), free_port(), free_port())
                 for i in (1, 2, 3, 4)}
        path = write_cluster_file("lonely", ports, (1, 2, 3, 4))
        joiner = Broker("lonely4", args=["--cluster-config=%s" % path,
                                         "--node-id=4", "--join=true"])
        joiner.kafka_port, _, joiner.http_port = ports[4]
        self.brokers = {4: joiner}
        joiner.start(wait_ready=False)
        deadline = time.time() + 6
        while time.time() < deadline:
            self.assertTrue(joiner.alive(), joiner.log())
            self.assertEqual(joiner.http_get("/ready")[0], 503)
            time.sleep(0.2)
        status = cluster_status(joiner)
        self.assertNotEqual(status["metadata"]["leader"], 4, status)
        self.assertEqual(status["brokers"], [], status)
        self.assertFalse(os.path.exists(os.path.join(joiner.data_dir,
                                                     "metadata-voters")))
        log = joiner.log()
        self.assertIn("joining: asking brokers [1,2,3] to add this node "
                      "(broker 4)", log)
        self.assertIn("joining: not ready: this node (broker 4) asked brokers "
                      "[1,2,3] to add it to the cluster and no controller has "
                      "answered: check that they are running and that their "
                      "raft ports are reachable", log)
        self.assertEqual(joiner.stop(), 0, joiner.log())


if __name__ == "__main__":
    harness.main()
