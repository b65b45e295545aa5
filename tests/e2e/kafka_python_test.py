"""kafka-python 2.0.2 against chronik-server: admin (create, describe,
delete), produce with acks 0/1/all and every codec, consume from
beginning/end/offset, offsets by time, a consumer group of two members that
rebalances, committed offsets."""

import queue
import threading
import time

import harness
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka import TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
from kafka.errors import TopicAlreadyExistsError, UnknownTopicOrPartitionError

COMMON = dict(request_timeout_ms=10000, api_version_auto_timeout_ms=5000,
              reconnect_backoff_ms=50, retry_backoff_ms=50)


class KafkaPythonTest(harness.BrokerTestCase):

    def admin(self):
        admin = KafkaAdminClient(bootstrap_servers=self.broker.bootstrap,
                                 **COMMON)
        self.addCleanup(admin.close)
        return admin

    def create(self, topic, partitions=1):
        self.admin().create_topics(
            [NewTopic(topic, num_partitions=partitions, replication_factor=1)])
        harness.wait_until(lambda: self._has_leaders(topic, partitions),
                           what="leaders of " + topic)

    def _has_leaders(self, topic, partitions):
        consumer = KafkaConsumer(bootstrap_servers=self.broker.bootstrap,
                                 **COMMON)
        try:
            found = consumer.partitions_for_topic(topic)
            return found is not None and len(found) == partitions
        finally:
            consumer.close()

    def producer(self, **config):
        producer = KafkaProducer(bootstrap_servers=self.broker.bootstrap,
                                 linger_ms=5, **COMMON, **config)
        self.addCleanup(producer.close)
        return producer

    def consumer(self, **config):
        defaults = dict(bootstrap_servers=self.broker.bootstrap,
                        consumer_timeout_ms=1500, fetch_max_wait_ms=100,
                        **COMMON)
        defaults.update(config)
        consumer = KafkaConsumer(**defaults)
        self.addCleanup(consumer.close)
        return consumer

    def read_all(self, topic, partition=0, start=0, timeout_s=15):
        """[(offset, value)] from `start` up to the end offset at call time."""
        consumer = self.consumer()
        tp = TopicPartition(topic, partition)
        consumer.assign([tp])
        consumer.seek(tp, start)
        end = consumer.end_offsets([tp])[tp]
        out = []
        deadline = time.time() + timeout_s
        while consumer.position(tp) < end and time.time() < deadline:
            for records in consumer.poll(200).values():
                out.extend((m.offset, m.value) for m in records)
        return out

    # --- admin -----------------------------------------------------------
    def test_admin_create_describe_delete(self):
        topic = self.topic("admin")
        admin = self.admin()
        admin.create_topics([NewTopic(topic, 3, 1)])
        with self.assertRaises(TopicAlreadyExistsError):
            admin.create_topics([NewTopic(topic, 3, 1)])
        harness.wait_until(lambda: topic in admin.list_topics(),
                           what="topic listed")
        described = admin.describe_topics([topic])
        self.assertEqual(described[0]["topic"], topic)
        self.assertEqual(described[0]["error_code"], 0)
        self.assertEqual(sorted(p["partition"] for p in
                                described[0]["partitions"]), [0, 1, 2])
        configs = admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic)])
        self.assertEqual(configs[0].resources[0][0], 0)  # error code
        admin.delete_topics([topic])
        harness.wait_until(lambda: topic not in admin.list_topics(),
                           what="topic deleted")
        with self.assertRaises(UnknownTopicOrPartitionError):
            admin.delete_topics([topic])

    # --- produce ---------------------------------------------------------
    def test_produce_acks_0_1_all(self):
        for acks in (0, 1, "all"):
            topic = self.topic("acks%s" % acks)
            self.create(topic)
            producer = self.producer(acks=acks)
            futures = [producer.send(topic, b"m%d" % i, partition=0)
                       for i in range(100)]
            producer.flush(timeout=10)
            if acks != 0:
                offsets = [f.get(timeout=10).offset for f in futures]
                self.assertEqual(offsets, list(range(100)))
            got = harness.wait_until(
                lambda: len(self.read_all(topic)) == 100 and
                self.read_all(topic), what="100 messages, acks=%s" % acks)
            self.assertEqual([v for _, v in got],
                             [b"m%d" % i for i in range(100)])

    def test_every_compression_codec(self):
        for codec in ("gzip", "snappy", "lz4", "zstd"):
            topic = self.topic(codec)
            self.create(topic)
            producer = self.producer(compression_type=codec, acks=1)
            values = [(b"%s-%d-" % (codec.encode(), i)) * 20 for i in range(300)]
            for v in values:
                producer.send(topic, v, partition=0)
            producer.flush(timeout=10)
            got = self.read_all(topic)
            self.assertEqual([v for _, v in got], values, codec)
            self.assertEqual([o for o, _ in got], list(range(300)), codec)

    # --- consume ---------------------------------------------------------
    def test_consume_from_beginning_end_and_offset(self):
        topic = self.topic("positions")
        self.create(topic)
        producer = self.producer(acks=1)
        for i in range(10):
            producer.send(topic, b"v%d" % i, partition=0)
        producer.flush(timeout=10)
        self.assertEqual([o for o, _ in self.read_all(topic, start=6)],
                         [6, 7, 8, 9])
        earliest = self.consumer(auto_offset_reset="earliest")
        earliest.subscribe([topic])
        self.assertEqual(len(list(earliest)), 10)
        tp = TopicPartition(topic, 0)
        latest = self.consumer()
        latest.assign([tp])
        latest.seek_to_end(tp)
        self.assertEqual(latest.position(tp), 10)
        producer.send(topic, b"new", partition=0)
        producer.flush(timeout=10)
        self.assertEqual([m.value for m in latest], [b"new"])
        self.assertEqual(latest.beginning_offsets([tp]), {tp: 0})
        self.assertEqual(latest.end_offsets([tp]), {tp: 11})

    def test_offsets_for_times(self):
        topic = self.topic("times")
        self.create(topic)
        producer = self.producer(acks=1)
        base = int(time.time() * 1000) - 100000
        for i in range(10):
            producer.send(topic, b"t%d" % i, partition=0,
                          timestamp_ms=base + 1000 * i)
        producer.flush(timeout=10)
        consumer = self.consumer()
        tp = TopicPartition(topic, 0)
        found = consumer.offsets_for_times({tp: base + 4500})
        self.assertEqual(found[tp].offset, 5)
        self.assertEqual(found[tp].timestamp, base + 5000)
        self.assertIsNone(consumer.offsets_for_times({tp: base + 99999})[tp])

    # --- groups ----------------------------------------------------------
    def test_group_of_two_rebalances_and_commits(self):
        topic = self.topic("group")
        self.create(topic, partitions=4)
        producer = self.producer(acks=1)
        for i in range(40):
            producer.send(topic, b"g%d" % i, partition=i % 4)
        producer.flush(timeout=10)
        group = "kp-" + topic
        config = dict(group_id=group, auto_offset_reset="earliest",
                      enable_auto_commit=False, session_timeout_ms=6000,
                      heartbeat_interval_ms=300, max_poll_interval_ms=10000)
        # Each member polls on its own thread: a kafka-python poll blocks
        # in JoinGroup until every member has rejoined.
        first = Member(self.consumer(**config), topic)
        harness.wait_until(lambda: len(first.assigned) == 4, timeout_s=20,
                           what="first member owns 4 partitions")
        second = Member(self.consumer(**config), topic)
        harness.wait_until(
            lambda: len(first.assigned) == 2 and len(second.assigned) == 2,
            timeout_s=30, what="2+2 assignment")
        self.assertFalse(first.assigned & second.assigned)
        # Commit offset 5 everywhere, then one member leaves: the other takes
        # over all partitions and sees the committed offsets.
        first.run_in_thread(lambda c: c.commit(
            {tp: _offset(5) for tp in c.assignment()}))
        second.run_in_thread(lambda c: c.commit(
            {tp: _offset(5) for tp in c.assignment()}))
        second.stop()
        harness.wait_until(lambda: len(first.assigned) == 4, timeout_s=30,
                           what="rebalance to one member")
        committed = first.run_in_thread(lambda c: [
            c.committed(TopicPartition(topic, p)) for p in range(4)])
        self.assertEqual(committed, [5, 5, 5, 5])
        first.stop()
        # A new member resumes at the committed offsets: 4 x 5 messages left.
        third = Member(self.consumer(**config), topic)
        harness.wait_until(lambda: len(third.records) >= 20, timeout_s=30,
                           what="20 uncommitted messages")
        third.stop()
        self.assertEqual(sorted(m.offset for m in third.records),
                         sorted(list(range(5, 10)) * 4))
        # Everything before offset 5 was consumed by the first two members.
        self.assertTrue(all(m.offset < 10 for m in first.records))


class Member:
    """A subscribed KafkaConsumer polled by its own thread."""

    def __init__(self, consumer, topic):
        self.consumer = consumer
        self.assigned = set()
        self.records = []
        self._calls = queue.Queue()
        self._stop = threading.Event()
        consumer.subscribe([topic])
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            for records in self.consumer.poll(100).values():
                self.records.extend(records)
            self.assigned = set(self.consumer.assignment())
            while not self._calls.empty():
                call, result = self._calls.get()
                try:
                    result.put((True, call(self.consumer)))
                except Exception as error:  # handed to the caller
                    result.put((False, error))
        self.consumer.close()

    def run_in_thread(self, call):
        result = queue.Queue()
        self._calls.put((call, result))
        ok, value = result.get(timeout=20)
        if not ok:
            raise value
        return value

    def stop(self):
        self._stop.set()
        self._thread.join(20)


def _offset(n):
    from kafka.structs import OffsetAndMetadata
    return OffsetAndMetadata(n, "")


if __name__ == "__main__":
    harness.main()
