"""confluent-kafka 1.7 (librdkafka 2.0.2) against chronik-server: admin,
every codec, acks, the idempotent producer, a consumer group of three that
rebalances, offsets by time, and auto topic creation (created once under
concurrent requests, LEADER_NOT_AVAILABLE until ready, configurable
partition count, and off with --auto-create-topics=false)."""

import threading
import time

import harness
import kafka_wire as kw
from confluent_kafka import (Consumer, KafkaError, KafkaException, Producer,
                             TopicPartition)
from confluent_kafka.admin import (AdminClient, ConfigResource, NewTopic)

LEADER_NOT_AVAILABLE = 5
UNKNOWN_TOPIC_OR_PARTITION = 3


class ConfluentTest(harness.BrokerTestCase):
    broker_args = ("--default-partitions=3",)

    def conf(self, **extra):
        conf = {"bootstrap.servers": self.broker.bootstrap,
                "topic.metadata.refresh.interval.ms": 500,
                "retry.backoff.ms": 50, "socket.timeout.ms": 10000}
        conf.update(extra)
        return conf

    def admin(self):
        return AdminClient(self.conf())

    def create(self, topic, partitions=1):
        admin = self.admin()  # must outlive the future
        futures = admin.create_topics([NewTopic(topic, partitions, 1)],
                                      operation_timeout=10)
        futures[topic].result(timeout=15)

    def produce(self, topic, values, partition=0, **conf):
        producer = Producer(self.conf(**{"linger.ms": 5, **conf}))
        delivered = []
        errors = []

        def report(err, msg):
            if err is not None:
                errors.append(err)
            else:
                delivered.append(msg.offset())
        for v in values:
            while True:
                try:
                    producer.produce(topic, v, partition=partition,
                                     on_delivery=report)
                    break
                except BufferError:
                    producer.poll(0.05)
        self.assertEqual(producer.flush(20), 0, "undelivered messages")
        self.assertEqual(errors, [])
        return delivered

    def read(self, topic, partition=0, start=0, count=None, timeout_s=15):
        consumer = Consumer(self.conf(**{"group.id": "reader",
                                         "enable.auto.commit": False,
                                         "fetch.wait.max.ms": 100}))
        consumer.assign([TopicPartition(topic, partition, start)])
        out = []
        deadline = time.time() + timeout_s
        try:
            while time.time() < deadline and (count is None or
                                               len(out) < count):
                msg = consumer.poll(0.2)
                if msg is None:
                    if count is None and out:
                        break
                    continue
                if msg.error():
                    if msg.error().code() == KafkaError._PARTITION_EOF:
                        continue
                    self.fail("consume error: %s" % msg.error())
                out.append((msg.offset(), msg.value()))
        finally:
            consumer.close()
        return out

    # --- admin -----------------------------------------------------------
    def test_admin_create_describe_delete(self):
        topic = self.topic("admin")
        admin = self.admin()
        admin.create_topics([NewTopic(topic, 2, 1)])[topic].result(timeout=15)
        with self.assertRaises(KafkaException) as raised:
            admin.create_topics([NewTopic(topic, 2, 1)])[topic].result(
                timeout=15)
        self.assertEqual(raised.exception.args[0].code(),
                         KafkaError.TOPIC_ALREADY_EXISTS)
        metadata = admin.list_topics(topic, timeout=10)
        self.assertEqual(sorted(metadata.topics[topic].partitions), [0, 1])
        resource = ConfigResource("topic", topic)
        configs = admin.describe_configs([resource])[resource].result(
            timeout=15)
        self.assertIsInstance(configs, dict)
        admin.delete_topics([topic])[topic].result(timeout=15)
        harness.wait_until(
            lambda: topic not in admin.list_topics(timeout=10).topics,
            what="deleted topic gone")

    # --- produce ---------------------------------------------------------
    def test_every_codec_and_acks(self):
        for codec in ("none", "gzip", "snappy", "lz4", "zstd"):
            for acks in ("1", "all"):
                topic = self.topic("c-%s-%s" % (codec, acks))
                self.create(topic)
                values = [b"%s/%d" % (codec.encode(), i) * 10
                          for i in range(500)]
                offsets = self.produce(topic, values, **{
                    "compression.codec": codec, "acks": acks})
                self.assertEqual(sorted(offsets), list(range(500)))
                got = self.read(topic, count=500)
                self.assertEqual([v for _, v in got], values,
                                 "%s acks=%s" % (codec, acks))

    def test_acks_0(self):
        topic = self.topic("acks0")
        self.create(topic)
        self.produce(topic, [b"a%d" % i for i in range(100)], acks="0")
        got = self.read(topic, count=100)
        self.assertEqual([v for _, v in got], [b"a%d" % i for i in range(100)])

    def test_idempotent_producer_no_duplicates_no_gaps(self):
        topic = self.topic("idem")
        self.create(topic)
        values = [b"i%d" % i for i in range(2000)]
        offsets = self.produce(topic, values, **{
            "enable.idempotence": True, "acks": "all",
            "max.in.flight.requests.per.connection": 5,
            "batch.num.messages": 50})
        self.assertEqual(sorted(offsets), list(range(2000)))
        got = self.read(topic, count=2000)
        self.assertEqual([v for _, v in got], values)
        # A second idempotent producer (new producer id) continues cleanly.
        more = self.produce(topic, [b"x", b"y"], **{"enable.idempotence": True})
        self.assertEqual(more, [2000, 2001])

    # --- consume ---------------------------------------------------------
    def test_offsets_for_times_and_watermarks(self):
        topic = self.topic("times")
        self.create(topic)
        base = int(time.time() * 1000) - 100000
        producer = Producer(self.conf())
        for i in range(10):
            producer.produce(topic, b"t%d" % i, partition=0,
                             timestamp=base + 1000 * i)
        self.assertEqual(producer.flush(15), 0)
        consumer = Consumer(self.conf(**{"group.id": "times"}))
        try:
            found = consumer.offsets_for_times(
                [TopicPartition(topic, 0, base + 2500)], timeout=10)
            self.assertEqual(found[0].offset, 3)
            beyond = consumer.offsets_for_times(
                [TopicPartition(topic, 0, base + 999999)], timeout=10)
            self.assertEqual(beyond[0].offset, -1)  # none that late
            self.assertEqual(consumer.get_watermark_offsets(
                TopicPartition(topic, 0), timeout=10), (0, 10))
        finally:
            consumer.close()

    def test_consumer_group_of_three_rebalances(self):
        topic = self.topic("group3")
        self.create(topic, partitions=6)
        for p in range(6):
            self.produce(topic, [b"p%d-%d" % (p, i) for i in range(10)],
                         partition=p)
        group = "cg-" + topic
        lock = threading.Lock()
        stop = threading.Event()
        committed = threading.Barrier(3, timeout=20)
        commit_errors = []
        assigned = [set(), set(), set()]
        positions = [{}, {}, {}]  # partition -> next offset, per member

        def run(index):
            def on_assign(consumer, partitions):
                with lock:
                    assigned[index] = {tp.partition for tp in partitions}
                    # Nothing is committed yet: the member starts over, and
                    # librdkafka forgets stored offsets on a revoke.
                    positions[index] = {}

            def on_revoke(consumer, partitions):
                with lock:
                    assigned[index] = set()
            consumer = Consumer(self.conf(**{
                "group.id": group, "auto.offset.reset": "earliest",
                "session.timeout.ms": 6000, "heartbeat.interval.ms": 300,
                "enable.auto.commit": False}))
            consumer.subscribe([topic], on_assign=on_assign,
                               on_revoke=on_revoke)
            while not stop.is_set():
                msg = consumer.poll(0.1)
                if msg is not None and not msg.error():
                    with lock:
                        positions[index][msg.partition()] = msg.offset() + 1
            # Commit while the group is stable; nobody leaves before all
            # have committed (a leave starts a rebalance that fences the
            # others' commits).
            try:
                consumer.commit(asynchronous=False)
            except KafkaException as error:
                commit_errors.append(error)
            committed.wait()
            consumer.close()
        threads = [threading.Thread(target=run, args=(i,)) for i in range(3)]
        for thread in threads:
            thread.start()

        def stable_and_caught_up():
            with lock:
                if sorted(len(a) for a in assigned) != [2, 2, 2]:
                    return False
                if set().union(*assigned) != set(range(6)):
                    return False
                return all(positions[i].get(p) == 10
                           for i in range(3) for p in assigned[i])
        try:
            harness.wait_until(stable_and_caught_up, timeout_s=40,
                               what="3 members with 2 partitions, caught up "
                               "(assigned %s)" % assigned)
        finally:
            stop.set()
            for thread in threads:
                thread.join(30)
        self.assertEqual(commit_errors, [])
        # The group committed: a new member starts at the end.
        late = Consumer(self.conf(**{"group.id": group,
                                     "auto.offset.reset": "earliest"}))
        try:
            late.subscribe([topic])
            self.produce(topic, [b"after"], partition=2)
            got = []
            harness.wait_until(
                lambda: (got.append(late.poll(0.3)) or
                         any(m is not None and not m.error() for m in got)),
                timeout_s=30, what="the new message")
            values = [m.value() for m in got if m is not None and
                      not m.error()]
            self.assertEqual(values, [b"after"])
        finally:
            late.close()

    # --- auto topic creation ---------------------------------------------
    def test_auto_create_on_metadata_is_retriable_then_ready(self):
        topic = self.topic("auto-meta")
        conn = kw.Connection(self.broker.kafka_port)
        first = kw.parse_metadata_v1_topics(
            conn.call(kw.API_METADATA, 1, kw.metadata_v1_body([topic])))
        self.assertEqual(first[topic][0], LEADER_NOT_AVAILABLE)

        def ready():
            # The topic exists first; its partitions report
            # LEADER_NOT_AVAILABLE until their leaders are elected.
            t = kw.parse_metadata_v1_topics(
                conn.call(kw.API_METADATA, 1, kw.metadata_v1_body([topic])))
            return (t[topic][0] == 0 and all(e == 0 for e in t[topic][1]) and
                    t[topic])
        created = harness.wait_until(ready, what="auto-created topic ready")
        self.assertEqual(created[1], [0, 0, 0])  # --default-partitions=3
        conn.close()

    def test_auto_create_by_many_clients_at_once_creates_once(self):
        topic = self.topic("auto-many")
        results = []

        def client(i):
            results.append(self.produce(topic, [b"c%d" % i], partition=0))
        threads = [threading.Thread(target=client, args=(i,))
                   for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertEqual(sorted(o for r in results for o in r),
                         list(range(8)))
        admin = self.admin()
        metadata = admin.list_topics(topic, timeout=10)
        self.assertEqual(len(metadata.topics[topic].partitions), 3)
        self.assertEqual(len([t for t in metadata.topics if t == topic]), 1)


class NoAutoCreateTest(harness.BrokerTestCase):
    broker_args = ("--auto-create-topics=false",)

    def test_missing_topic_is_unknown_and_not_created(self):
        conn = kw.Connection(self.broker.kafka_port)
        for _ in range(3):
            t = kw.parse_metadata_v1_topics(conn.call(
                kw.API_METADATA, 1, kw.metadata_v1_body(["nope"])))
            self.assertEqual(t["nope"][0], UNKNOWN_TOPIC_OR_PARTITION)
            results = kw.parse_produce_v3(conn.call(
                kw.API_PRODUCE, 3,
                kw.produce_v3_body("nope", 0, kw.record_batch([b"x"]))))
            self.assertEqual(results[0][2], UNKNOWN_TOPIC_OR_PARTITION)
            time.sleep(0.1)
        all_topics = kw.parse_metadata_v1_topics(
            conn.call(kw.API_METADATA, 1, kw.metadata_v1_body(None)))
        self.assertNotIn("nope", all_topics)
        conn.close()


if __name__ == "__main__":
    harness.main()
