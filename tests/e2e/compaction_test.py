"""Log compaction (cleanup.policy=compact) against chronik-server with
confluent-kafka 1.7 (librdkafka 2.0.2): a compacted topic with small segments
gets several versions of each key; once the compactor ran, a consumer from
the beginning sees every key's latest value at the offset it was written at
(older versions gone, so the offsets have gaps), and a tombstoned key
disappears after delete.retention.ms. The topic configs are accepted by
CreateTopics and shown by DescribeConfigs; a compact,delete topic compacts
too and a delete topic keeps every version. Prints the partition's log size
before and after."""

import os
import sys
import time

import harness
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

KEYS = 10
ROUNDS = 20
DELETE_RETENTION_MS = 6000
CONFIGS = {
    "segment.bytes": "4096",
    "segment.ms": "1000",
    "min.cleanable.dirty.ratio": "0.01",
    "delete.retention.ms": str(DELETE_RETENTION_MS),
}


def last_round(k):
    return ROUNDS - 1 - k % 3


PRODUCED = sum(last_round(k) + 1 for k in range(KEYS)) + 1


def seg_bytes(data_dir):
    """Bytes of the segment files of each group directory."""
    sizes = {}
    for root, _, files in os.walk(data_dir):
        total = sum(os.path.getsize(os.path.join(root, f))
                    for f in files if f.endswith(".seg"))
        if total:
            sizes[root] = total
    return sizes


class CompactionTest(harness.BrokerTestCase):
    def conf(self, **extra):
        conf = {"bootstrap.servers": self.broker.bootstrap,
                "topic.metadata.refresh.interval.ms": 500,
                "retry.backoff.ms": 50, "socket.timeout.ms": 10000}
        conf.update(extra)
        return conf

    def create(self, topic, policy):
        admin = AdminClient(self.conf())
        configs = dict(CONFIGS, **{"cleanup.policy": policy})
        futures = admin.create_topics(
            [NewTopic(topic, 1, 1, config=configs)], operation_timeout=10)
        futures[topic].result(timeout=15)
        described = admin.describe_configs(
            [ConfigResource(ConfigResource.Type.TOPIC, topic)])
        entries = list(described.values())[0].result(timeout=15)
        for name, value in configs.items():
            self.assertEqual(entries[name].value, value, name)

    def produce_versions(self, topic):
        """Up to ROUNDS versions of KEYS keys (key k's last in round
        last_round(k), so the survivors are spread out), then a tombstone for
        k0; returns key -> offset of its last record."""
        producer = Producer(self.conf(**{"linger.ms": 5}))
        last = {}
        errors = []

        def report(err, msg):
            if err is not None:
                errors.append(err)
            else:
                last[msg.key().decode()] = msg.offset()
        for r in range(ROUNDS):
            for k in [k for k in range(KEYS) if r <= last_round(k)]:
                producer.produce(topic, key="k%d" % k,
                                 value=("k%d-v%d-" % (k, r)) + "x" * 100,
                                 partition=0, on_delivery=report)
            self.assertEqual(producer.flush(20), 0)
        producer.produce(topic, key="k0", value=None, partition=0,
                         on_delivery=report)
        self.assertEqual(producer.flush(20), 0)
        self.assertEqual(errors, [])
        return last

    def read_all(self, topic, isolation="read_uncommitted"):
        """[(offset, key, value)] from the beginning to the end."""
        consumer = Consumer(self.conf(**{"group.id": "compaction-" + isolation,
                                         "enable.auto.commit": False,
                                         "enable.partition.eof": True,
                                         "isolation.level": isolation,
                                         "fetch.wait.max.ms": 100}))
        consumer.assign([TopicPartition(topic, 0, 0)])
        out = []
        deadline = time.time() + 15
        try:
            while time.time() < deadline:
                msg = consumer.poll(0.2)
                if msg is None:
                    continue
                if msg.error():
                    if msg.error().code() == KafkaError._PARTITION_EOF:
                        break
                    self.fail("consume error: %s" % msg.error())
                key = msg.key().decode() if msg.key() is not None else None
                out.append((msg.offset(), key, msg.value()))
        finally:
            consumer.close()
        return out

    def compacted(self, records, last, tombstone_gone):
        by_key = {}
        for offset, key, value in records:
            by_key.setdefault(key, []).append((offset, value))
        for k in range(1, KEYS):
            key = "k%d" % k
            want = [(last[key], (("k%d-v%d-" % (k, last_round(k))) +
                                 "x" * 100).encode())]
            if by_key.get(key) != want:
                return False
        k0 = by_key.get("k0", [])
        if tombstone_gone:
            return k0 == []
        return all(value is None for _, value in k0)

    def test_latest_values_at_their_offsets_and_tombstones_expire(self):
        topic = self.topic("compacted")
        before_dirs = set(seg_bytes(self.broker.data_dir))
        self.create(topic, "compact")
        last = self.produce_versions(topic)
        produced_at = time.time()
        sizes = {d: s for d, s in seg_bytes(self.broker.data_dir).items()
                 if d not in before_dirs}
        self.assertEqual(len(sizes), 1, sizes)
        part_dir, size_before = list(sizes.items())[0]
        self.assertEqual(len(self.read_all(topic)) >= KEYS, True)

        records = harness.wait_until(
            lambda: (lambda r: r if self.compacted(r, last, False) else None)(
                self.read_all(topic)),
            timeout_s=30, interval_s=0.5, what="compaction")
        # Offsets preserved: the survivors sit where they were written, with
        # gaps where older versions were.
        offsets = [o for o, _, _ in records]
        self.assertEqual(offsets, sorted(offsets))
        self.assertGreater(offsets[0], 0)
        self.assertLess(len(offsets), offsets[-1] - offsets[0] + 1)
        if time.time() - produced_at < DELETE_RETENTION_MS / 1000 - 1:
            self.assertIn((last["k0"], "k0", None), records)
        harness.wait_until(
            lambda: self.compacted(self.read_all(topic), last, True),
            timeout_s=30, interval_s=0.5, what="the tombstone to expire")
        self.assertGreaterEqual(time.time() - produced_at,
                                DELETE_RETENTION_MS / 1000 - 0.5)
        size_after = seg_bytes(self.broker.data_dir)[part_dir]
        sys.stderr.write("compaction: %d records of %d keys, log %d bytes "
                         "after producing, %d after compaction\n" %
                         (PRODUCED, KEYS, size_before, size_after))
        self.assertLess(size_after, size_before / 2)
        # A producer goes on at the next offset.
        self.assertEqual(self.produce_versions(topic)["k1"],
                         last["k1"] + PRODUCED)

    def test_compact_delete_compacts_and_delete_keeps_every_version(self):
        both = self.topic("both")
        plain = self.topic("plain")
        self.create(both, "compact,delete")
        self.create(plain, "delete")
        last = self.produce_versions(both)
        self.produce_versions(plain)
        harness.wait_until(
            lambda: self.compacted(self.read_all(both), last, False),
            timeout_s=30, interval_s=0.5, what="compaction of compact,delete")
        self.assertEqual(len(self.read_all(plain)), PRODUCED)


    def test_a_record_without_key_is_refused(self):
        """Kafka: INVALID_RECORD for a keyless record on a compacted topic;
        the same record goes to a delete topic, and keyed ones to both."""
        compacted = self.topic("nokey")
        plain = self.topic("nokey-plain")
        self.create(compacted, "compact")
        self.create(plain, "delete")
        producer = Producer(self.conf(**{"retries": 0}))
        results = {}

        def report(err, msg):
            results[(msg.topic(), msg.key())] = err
        for topic in (compacted, plain):
            producer.produce(topic, value=b"no key", partition=0,
                             on_delivery=report)
            producer.flush(20)  # one batch each: the keyless one alone
            producer.produce(topic, key=b"k", value=b"keyed", partition=0,
                             on_delivery=report)
            producer.flush(20)
        self.assertEqual(len(results), 4, results)
        refused = results[(compacted, None)]
        self.assertIsNotNone(refused)
        self.assertEqual(refused.code(), KafkaError.INVALID_RECORD, refused)
        self.assertIsNone(results[(compacted, b"k")])
        self.assertIsNone(results[(plain, None)])
        self.assertIsNone(results[(plain, b"k")])

    def transaction(self, producer, topic, records, commit):
        producer.begin_transaction()
        for key, value in records:
            producer.produce(topic, key=key, value=value, partition=0)
        if commit:
            producer.commit_transaction(20)
        else:
            producer.flush(20)
            producer.abort_transaction(20)

    def read_values(self, topic, isolation):
        return [(key.encode(), value)
                for _, key, value in self.read_all(topic, isolation)]

    def test_transaction_markers_go_once_their_records_are_gone(self):
        """A committed transaction whose records were all superseded and
        aborted ones lose their markers delete.retention.ms after they were
        written (the broker counts them); a marker whose transaction kept a
        record stays. read_committed readers then see every committed latest
        value, also the producer's later transactions (a fetch that listed
        the aborted transaction without its marker would hide those), and
        after a restart too."""
        topic = self.topic("txn-compacted")
        admin = AdminClient(self.conf())
        configs = dict(CONFIGS, **{"cleanup.policy": "compact",
                                   "delete.retention.ms": "2000"})
        admin.create_topics([NewTopic(topic, 1, 1, config=configs)],
                            operation_timeout=10)[topic].result(timeout=15)
        # A producer whose only transaction aborts: after a restart, its
        # removed marker must still end it (else the LSO stays before it).
        other = Producer(self.conf(**{"transactional.id": "compact-txn-2",
                                      "linger.ms": 5}))
        other.init_transactions(20)
        self.transaction(other, topic, [(b"c", b"aborted")], commit=False)
        producer = Producer(self.conf(**{"transactional.id": "compact-txn",
                                         "linger.ms": 5}))
        producer.init_transactions(20)
        self.transaction(producer, topic, [(b"a", b"a1")], commit=True)
        self.transaction(producer, topic, [(b"a", b"aborted"),
                                           (b"c", b"aborted")], commit=False)
        self.transaction(producer, topic, [(b"a", b"a3"), (b"b", b"b3")],
                         commit=True)
        removed = "chronik_compaction_markers_removed_total"
        before = self.broker.metric(removed)
        harness.wait_until(
            lambda: self.broker.metric(removed) - before >= 3,
            timeout_s=30, interval_s=0.5, what="three markers removed")
        time.sleep(3)  # more passes: the a3/b3 transaction's marker stays
        self.assertEqual(self.broker.metric(removed) - before, 3)
        self.transaction(producer, topic, [(b"d", b"d4")], commit=True)
        producer.flush(10)
        want = [(b"a", b"a3"), (b"b", b"b3"), (b"d", b"d4")]
        self.assertEqual(self.read_values(topic, "read_committed"), want)
        self.assertEqual(self.read_values(topic, "read_uncommitted"), want)
        self.broker.restart()
        self.assertEqual(self.read_values(topic, "read_committed"), want)


if __name__ == "__main__":
    harness.main()
