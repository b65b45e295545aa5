"""Leader epochs (KIP-101/279/320) on three real processes.

A confluent-kafka consumer reads a replicated partition through a kill -9 of
its leader while a producer goes on through the survivors: every record once,
in order. The batches carry the epoch (Raft term) of the leader that appended
them; Metadata v7 answers the new leader's newer epoch; the new leader answers
OffsetForLeaderEpoch (sent by hand: none of the installed clients uses it,
librdkafka 2.0.2 lists KIP-320 as not supported) with each epoch's end, and
Fetch, ListOffsets and OffsetForLeaderEpoch fence an older current epoch
(FENCED_LEADER_EPOCH 74) and refuse a newer one (UNKNOWN_LEADER_EPOCH 75);
followers answer NOT_LEADER_OR_FOLLOWER. The killed node comes back and
agrees.
"""

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic

import harness
import kafka_wire as wire
from harness import wait_until

TOPIC = "epochs"


class LeaderEpochTest(harness.unittest.TestCase):

    def setUp(self):
        self.brokers = harness.start_cluster(
            self, [1, 2, 3], args=["--broker-session-timeout-ms=2000",
                                   "--replica-lag-time-max-ms=3000"])

    def tearDown(self):
        for broker in self.brokers.values():
            if broker.alive():
                broker.kill9()

    def bootstrap(self, nodes=(1, 2, 3)):
        return ",".join(self.brokers[n].bootstrap for n in nodes)

    def call(self, node, api_key, version, body):
        conn = wire.Connection(self.brokers[node].kafka_port)
        try:
            return conn.call(api_key, version, body)
        finally:
            conn.close()

    def describe(self, node):
        """(error, leader, leader_epoch) of partition 0 as `node` sees it."""
        try:
            body = self.call(node, wire.API_METADATA, 7,
                             wire.metadata_v7_body([TOPIC]))
        except OSError:
            return None
        return wire.parse_metadata_v7(body).get(TOPIC, {}).get(0)

    def end_offsets(self, node, partitions, version=3, topic=TOPIC):
        body = wire.offset_for_leader_epoch_body(version, topic, partitions)
        return wire.parse_offset_for_leader_epoch(
            version, self.call(node, wire.API_OFFSET_FOR_LEADER_EPOCH,
                               version, body))

    def fetch(self, node, offset, current_epoch):
        return wire.parse_fetch_v11(self.call(
            node, wire.API_FETCH, 11,
            wire.fetch_v11_body(TOPIC, 0, offset, current_epoch)))

    def list_latest(self, node, current_epoch):
        return wire.parse_list_offsets_v4(self.call(
            node, wire.API_LIST_OFFSETS, 4,
            wire.list_offsets_v4_body(TOPIC, 0, -1, current_epoch)))

    def produce(self, nodes, start, count):
        delivered = []
        producer = Producer({"bootstrap.servers": self.bootstrap(nodes),
                             "acks": "all", "enable.idempotence": True,
                             "linger.ms": 5, "message.timeout.ms": 30000})
        for i in range(start, start + count):
            producer.produce(TOPIC, value=b"e%05d" % i,
                             on_delivery=lambda err, msg: delivered.append(err))
        self.assertEqual(producer.flush(40), 0)
        self.assertEqual([str(e) for e in delivered if e is not None], [])
        self.assertEqual(len(delivered), count)

    def leader_after(self, node, not_this=None, above=0):
        def seen():
            d = self.describe(node)
            if d is None or d[0] != 0 or d[1] < 0 or d[1] == not_this:
                return None
            return d if d[2] > above else None
        _, leader, epoch = wait_until(seen, timeout_s=30,
                                      what="a leader of %s" % TOPIC)
        return leader, epoch

    def poll(self, consumer, values, want):
        for _ in range(600):
            if len(values) >= want:
                return
            message = consumer.poll(0.1)
            if message is not None and message.error() is None:
                values.append(message.value())

    def all_epochs(self, node, current_epoch):
        """[(base offset, epoch)] of every batch `node` serves."""
        out, offset, high = [], 0, 1
        while offset < high:
            error, high, records = self.fetch(node, offset, current_epoch)
            self.assertEqual(error, 0)
            batches = wire.batch_epochs(records)
            self.assertTrue(batches or offset >= high, (offset, high))
            out += [(base, epoch) for base, _, epoch in batches]
            offset = batches[-1][1] + 1 if batches else high
        return out

    def test_epochs_through_a_leader_kill(self):
        conn = wire.Connection(self.brokers[1].kafka_port)
        versions = conn.api_versions_v0()
        conn.close()
        self.assertEqual(versions[1][wire.API_OFFSET_FOR_LEADER_EPOCH], (0, 4))
        self.assertEqual(versions[1][wire.API_FETCH], (0, 13))
        self.assertEqual(versions[1][wire.API_LIST_OFFSETS], (0, 8))
        admin = AdminClient({"bootstrap.servers": self.bootstrap()})
        admin.create_topics([NewTopic(TOPIC, num_partitions=1,
                                      replication_factor=3)])[TOPIC].result(
                                          timeout=20)
        first, e1 = self.leader_after(1)
        self.assertGreater(e1, 0)
        for node in (1, 2, 3):
            wait_until(lambda: (self.describe(node) or (0, 0, 0))[2] == e1,
                       timeout_s=20, what="node %d answering epoch %d"
                       % (node, e1))
        self.produce((1, 2, 3), 0, 100)
        consumer = Consumer({"bootstrap.servers": self.bootstrap(),
                             "group.id": "epochs-reader",
                             "auto.offset.reset": "earliest",
                             "enable.auto.commit": True})
        consumer.subscribe([TOPIC])
        values = []
        self.poll(consumer, values, 100)
        self.assertEqual(len(values), 100)
        # Commit what was read: the group coordinator is the metadata leader
        # and keeps members in memory, so if the kill below takes it too the
        # consumer rejoins and resumes from its committed offset. Without a
        # commit (auto-commit runs every 5 s) that is auto.offset.reset, and
        # re-reading e00000.. is at-least-once delivery, not a lost position.
        self.assertEqual(consumer.commit(asynchronous=False)[0].offset, 100)

        # The leader dies; the consumer goes on through the new one.
        self.brokers[first].kill9()
        survivors = tuple(n for n in (1, 2, 3) if n != first)
        second, e2 = self.leader_after(survivors[0], not_this=first, above=e1)
        self.assertGreater(e2, e1)
        self.produce(survivors, 100, 100)
        self.poll(consumer, values, 200)
        consumer.close()
        self.assertEqual(values, [b"e%05d" % i for i in range(200)],
                         "every record once, in order, through the kill")

        # Each batch carries the epoch of the leader that appended it.
        epochs = self.all_epochs(second, e2)
        self.assertEqual(sorted({e for _, e in epochs}), [e1, e2])
        self.assertTrue(all(e == e1 for b, e in epochs if b < 100), epochs)
        self.assertTrue(all(e == e2 for b, e in epochs if b >= 100), epochs)

        # OffsetForLeaderEpoch on the new leader.
        answers = self.end_offsets(second, [(0, e2, e1), (0, e2, e2),
                                            (0, e2, e2 + 5), (0, -1, e1 - 1)])
        self.assertEqual(answers, [(0, 0, e1, 100), (0, 0, e2, 200),
                                   (0, 0, -1, -1), (0, 0, e1 - 1, 0)])
        self.assertEqual(self.end_offsets(second, [(0, -1, e1)], version=0),
                         [(0, 0, None, 100)])
        self.assertEqual(self.end_offsets(second, [(0, e1, e1)]),
                         [(0, wire.FENCED_LEADER_EPOCH, -1, -1)])
        self.assertEqual(self.end_offsets(second, [(0, e2 + 1, e1)]),
                         [(0, wire.UNKNOWN_LEADER_EPOCH, -1, -1)])
        follower = survivors[0] if survivors[1] == second else survivors[1]
        self.assertEqual(self.end_offsets(follower, [(0, e2, e1)]),
                         [(0, wire.NOT_LEADER_OR_FOLLOWER, -1, -1)])
        self.assertEqual(self.end_offsets(second, [(0, -1, e1)],
                                          topic="no-such-topic"),
                         [(0, wire.UNKNOWN_TOPIC_OR_PARTITION, -1, -1)])

        # Fetch and ListOffsets fence an older epoch, refuse a newer one.
        self.assertEqual(self.fetch(second, 0, e1)[0],
                         wire.FENCED_LEADER_EPOCH)
        self.assertEqual(self.fetch(second, 0, e2 + 1)[0],
                         wire.UNKNOWN_LEADER_EPOCH)
        self.assertEqual(self.list_latest(second, e2), (0, 200, e2))
        self.assertEqual(self.list_latest(second, e1)[0],
                         wire.FENCED_LEADER_EPOCH)

        # The killed node comes back as a follower of the new epoch, with
        # the same batches.
        self.brokers[first].start(wait_ready=True, timeout_s=30)
        wait_until(lambda: self.describe(first) == (0, second, e2),
                   timeout_s=30, what="the restarted node seeing epoch %d" % e2)
        self.assertEqual(self.fetch(first, 0, e2)[0],
                         wire.NOT_LEADER_OR_FOLLOWER)


if __name__ == "__main__":
    harness.main()
