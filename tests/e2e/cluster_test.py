"""Three chronik-server processes as one cluster (the seed's failed scenario).

The seed's brokers each ran a one-member metadata group, never registered, and
lost a derived port. Here: a TOML cluster file with explicit ports, three real
processes exchanging Raft messages over gRPC, and real clients that create a
replicated topic, produce with acks=all, lose the partition leader to kill -9,
keep producing through the survivors, read everything back, and see the
killed node rejoin. Liveness and the ISR (short timeouts here: a broker silent
for 2 s is fenced, a follower 3 s behind leaves the ISR): a killed node leaves
every other node's Metadata and the ISR, and comes back after its restart.
"""

import os

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

import harness
from harness import Broker, free_port, wait_until


class ClusterTest(harness.unittest.TestCase):

    def setUp(self):
        self.ports = {i: (free_port(), free_port()) for i in (1, 2, 3)}
        text = "enabled = true\nreplication_factor = 3\nmin_insync_replicas = 2\n"
        for node, (kafka, raft) in sorted(self.ports.items()):
            text += ('\n[[peers]]\nid = %d\naddr = "127.0.0.1:%d"\n'
                     'raft_port = %d\n' % (node, kafka, raft))
        path = os.path.join(harness.TMP, "cluster-%d.toml" % os.getpid())
        with open(path, "w") as f:
            f.write(text)
        self.brokers = {}
        for node in (1, 2, 3):
            broker = Broker("node%d" % node,
                            args=["--cluster-config=%s" % path,
                                  "--node-id=%d" % node,
                                  "--broker-session-timeout-ms=2000",
                                  "--replica-lag-time-max-ms=3000"])
            broker.kafka_port = self.ports[node][0]
            self.brokers[node] = broker.start(wait_ready=False)
        for broker in self.brokers.values():
            broker.wait_ready(timeout_s=30)

    def tearDown(self):
        for broker in self.brokers.values():
            if broker.alive():
                broker.kill9()

    def bootstrap(self, nodes=(1, 2, 3)):
        return ",".join(self.brokers[n].bootstrap for n in nodes)

    def test_replicated_topic_survives_losing_its_leader(self):
        admin = AdminClient({"bootstrap.servers": self.bootstrap()})
        metadata = admin.list_topics(timeout=10)
        self.assertEqual(sorted(metadata.brokers), [1, 2, 3],
                         "every node registered in the one metadata group")
        futures = admin.create_topics(
            [NewTopic("replicated", num_partitions=1, replication_factor=3)])
        futures["replicated"].result(timeout=20)

        def leader():
            topic = admin.list_topics(topic="replicated",
                                      timeout=10).topics["replicated"]
            partition = topic.partitions.get(0)
            return partition.leader if partition and partition.leader > 0 else None

        first_leader = wait_until(leader, timeout_s=20, what="a partition leader")

        def produce(nodes, start, count):
            delivered = []
            producer = Producer({"bootstrap.servers": self.bootstrap(nodes),
                                 "acks": "all", "enable.idempotence": True,
                                 "message.timeout.ms": 30000})
            for i in range(start, start + count):
                producer.produce("replicated", value=b"m%05d" % i,
                                 on_delivery=lambda err, msg: delivered.append(
                                     err))
            self.assertEqual(producer.flush(40), 0)
            self.assertEqual(len(delivered), count)
            errors = [str(e) for e in delivered if e is not None]
            self.assertEqual(errors, [], "every message acknowledged")

        produce((1, 2, 3), 0, 100)
        self.brokers[first_leader].kill9()
        survivors = tuple(n for n in (1, 2, 3) if n != first_leader)
        admin = AdminClient({"bootstrap.servers": self.bootstrap(survivors)})
        second_leader = wait_until(
            lambda: (lambda l: l if l not in (None, first_leader) else None)(
                leader()),
            timeout_s=30, what="a new partition leader")
        self.assertIn(second_leader, survivors)
        produce(survivors, 100, 100)

        consumer = Consumer({"bootstrap.servers": self.bootstrap(survivors),
                             "group.id": "cluster-check",
                             "enable.auto.commit": False})
        consumer.assign([TopicPartition("replicated", 0, 0)])
        values = []
        deadline_polls = 300
        while len(values) < 200 and deadline_polls > 0:
            message = consumer.poll(0.1)
            deadline_polls -= 1
            if message is not None and message.error() is None:
                values.append(message.value())
        consumer.close()
        self.assertEqual(values, [b"m%05d" % i for i in range(200)],
                         "all acknowledged messages, once, in order")

        # The killed node comes back and rejoins.
        self.brokers[first_leader].start(wait_ready=True, timeout_s=30)
        admin = AdminClient({"bootstrap.servers": self.bootstrap()})
        self.assertEqual(sorted(admin.list_topics(timeout=10).brokers),
                         [1, 2, 3])

    def test_sigterm_with_live_peers_exits_cleanly(self):
        # Defect found in testing: SIGTERM of a node whose peers were alive
        # crashed it (a gRPC thread posted to the freed event loop while the
        # peer transport was torn down), every time.
        for node in (1, 2):
            code = self.brokers[node].stop()
            self.assertEqual(code, 0, "node %d exit status after SIGTERM:\n%s"
                             % (node, self.brokers[node].log()))
            self.brokers[node].start(wait_ready=True, timeout_s=30)

    def test_every_broker_names_the_leader_of_every_partition(self):
        # Defect found in testing: a broker holding no replica of a partition
        # answered leader -1 for it (replication factor below cluster size).
        admin = AdminClient({"bootstrap.servers": self.bootstrap()})
        admin.create_topics([NewTopic("single", num_partitions=3,
                                      replication_factor=1)])["single"].result(
                                          timeout=20)

        def leaders_seen_by(node):
            client = AdminClient({"bootstrap.servers": self.bootstrap((node,))})
            topic = client.list_topics(topic="single", timeout=10).topics.get(
                "single")
            if topic is None or len(topic.partitions) != 3:
                return None
            return {p: topic.partitions[p].leader for p in topic.partitions}

        def agreed():
            seen = [leaders_seen_by(node) for node in (1, 2, 3)]
            if any(s is None or min(s.values()) <= 0 for s in seen):
                return None
            return seen[0] if seen[0] == seen[1] == seen[2] else None

        leaders = wait_until(agreed, timeout_s=20,
                             what="every broker naming every leader")
        self.assertEqual(sorted(leaders), [0, 1, 2])

    def test_a_killed_broker_leaves_metadata_and_the_isr_until_it_returns(self):
        admin = AdminClient({"bootstrap.servers": self.bootstrap()})
        admin.create_topics([NewTopic("watched", num_partitions=1,
                                      replication_factor=3)])[
                                          "watched"].result(timeout=20)

        def seen_by(node):
            client = AdminClient({"bootstrap.servers": self.bootstrap((node,))})
            metadata = client.list_topics(topic="watched", timeout=10)
            topic = metadata.topics.get("watched")
            partition = topic.partitions.get(0) if topic else None
            if partition is None or partition.leader <= 0:
                return None
            return sorted(metadata.brokers), sorted(partition.isrs)

        wait_until(lambda: all(seen_by(n) == ([1, 2, 3], [1, 2, 3])
                               for n in (1, 2, 3)),
                   timeout_s=20, what="every broker and replica in sync")
        self.brokers[3].kill9()
        # Writes the dead follower misses (acks=all: 2 in sync >= 2).
        producer = Producer({"bootstrap.servers": self.bootstrap((1, 2)),
                             "acks": "all", "message.timeout.ms": 30000})
        for i in range(10):
            producer.produce("watched", value=b"w%d" % i)
        self.assertEqual(producer.flush(40), 0)
        for node in (1, 2):
            wait_until(lambda: seen_by(node) == ([1, 2], [1, 2]), timeout_s=30,
                       what="node %d: broker 3 fenced and out of the ISR"
                       % node)
        self.brokers[3].start(wait_ready=True, timeout_s=30)
        for node in (1, 2, 3):
            wait_until(lambda: seen_by(node) == ([1, 2, 3], [1, 2, 3]),
                       timeout_s=30,
                       what="node %d: broker 3 back, in sync again" % node)


if __name__ == "__main__":
    harness.main()
