"""Restarts: what was acknowledged survives kill -9 (acks=all and acks=1 in
standalone, where the leader's fsync is the acknowledgement); committed group
offsets and topics survive SIGTERM and kill -9 restarts; a restarted broker
appends after what it had."""

import signal
import time

import harness
from confluent_kafka import (Consumer, KafkaError, Producer, TopicPartition)
from confluent_kafka.admin import AdminClient, NewTopic


class DurabilityTest(harness.BrokerTestCase):

    def conf(self, **extra):
        conf = {"bootstrap.servers": self.broker.bootstrap,
                "topic.metadata.refresh.interval.ms": 500,
                "retry.backoff.ms": 50, "reconnect.backoff.ms": 50,
                "reconnect.backoff.max.ms": 200}
        conf.update(extra)
        return conf

    def create(self, topic, partitions=1):
        admin = AdminClient(self.conf())  # must outlive the future
        admin.create_topics([NewTopic(topic, partitions, 1)])[topic].result(
            timeout=15)

    def read(self, topic, count, partition=0, timeout_s=20):
        consumer = Consumer(self.conf(**{"group.id": "reader",
                                         "enable.auto.commit": False}))
        consumer.assign([TopicPartition(topic, partition, 0)])
        out = {}
        deadline = time.time() + timeout_s
        try:
            while time.time() < deadline and len(out) < count:
                msg = consumer.poll(0.2)
                if msg is None or msg.error():
                    continue
                out[msg.offset()] = msg.value()
        finally:
            consumer.close()
        return out

    def high_watermark(self, topic, partition=0):
        consumer = Consumer(self.conf(**{"group.id": "watermarks"}))
        try:
            return consumer.get_watermark_offsets(
                TopicPartition(topic, partition), timeout=10)[1]
        finally:
            consumer.close()

    def produce_until_killed(self, topic, acks):
        """Produces while the broker is killed with SIGKILL midway; returns
        {offset: value} of every acknowledged message."""
        producer = Producer(self.conf(**{
            "acks": acks, "linger.ms": 2, "message.timeout.ms": 3000,
            "retries": 0}))
        acked = {}

        def report(err, msg):
            if err is None:
                acked[msg.offset()] = msg.value()
        for i in range(5000):
            try:
                producer.produce(topic, b"d%d" % i, partition=0,
                                 on_delivery=report)
            except BufferError:
                producer.poll(0.01)
            if i == 2500:
                producer.flush(10)
            if i == 4000:  # with requests in flight
                self.broker.kill9()
            producer.poll(0)
        producer.flush(5)
        return acked

    def check_acked_survive_kill9(self, acks):
        topic = self.topic("kill9-acks" + acks)
        self.create(topic)
        acked = self.produce_until_killed(topic, acks)
        self.assertGreater(len(acked), 2000)
        self.broker.start()
        # Unacknowledged messages may or may not have survived: read to the
        # end of the log, whatever it is now.
        end = self.high_watermark(topic)
        self.assertGreaterEqual(end, len(acked))
        stored = self.read(topic, end)
        self.assertEqual(sorted(stored), list(range(end)))
        lost = [o for o in acked if stored.get(o) != acked[o]]
        self.assertEqual(lost, [], "acknowledged then lost (acks=%s)" % acks)
        # The log continues after what survived.
        producer = Producer(self.conf())
        offsets = []
        producer.produce(topic, b"after", partition=0,
                         on_delivery=lambda e, m: offsets.append(m.offset()))
        self.assertEqual(producer.flush(15), 0)
        self.assertEqual(offsets, [end])

    def test_acks_all_survive_kill9(self):
        self.check_acked_survive_kill9("all")

    def test_acks_1_survive_kill9(self):
        self.check_acked_survive_kill9("1")

    def commit_and_restart(self, sig):
        topic = self.topic("commit-%d" % sig)
        self.create(topic, partitions=2)
        producer = Producer(self.conf())
        for p in range(2):
            for i in range(10):
                producer.produce(topic, b"%d-%d" % (p, i), partition=p)
        self.assertEqual(producer.flush(15), 0)
        group = "dur-" + topic
        consumer = Consumer(self.conf(**{"group.id": group,
                                         "enable.auto.commit": False}))
        consumer.commit(offsets=[TopicPartition(topic, 0, 4),
                                 TopicPartition(topic, 1, 7)],
                        asynchronous=False)
        consumer.close()
        if sig == signal.SIGKILL:
            self.broker.kill9()
            self.broker.start()
        else:
            self.assertEqual(self.broker.restart(sig), 0)
        consumer = Consumer(self.conf(**{"group.id": group,
                                         "enable.auto.commit": False}))
        try:
            committed = harness.wait_until(
                lambda: consumer.committed(
                    [TopicPartition(topic, 0), TopicPartition(topic, 1)],
                    timeout=5), timeout_s=20, what="committed offsets")
            self.assertEqual([(tp.partition, tp.offset) for tp in committed],
                             [(0, 4), (1, 7)])
            # A subscribing member starts at the committed offsets.
            consumer.subscribe([topic])
            seen = []

            def drained():
                msg = consumer.poll(0.3)
                if msg is not None and not msg.error():
                    seen.append((msg.partition(), msg.offset()))
                return len(seen) >= 9
            harness.wait_until(drained, timeout_s=30, what="9 messages")
            self.assertEqual(sorted(seen), [(0, o) for o in range(4, 10)] +
                             [(1, o) for o in range(7, 10)])
        finally:
            consumer.close()

    def test_committed_offsets_survive_sigterm_restart(self):
        self.commit_and_restart(signal.SIGTERM)

    def test_committed_offsets_survive_kill9(self):
        self.commit_and_restart(signal.SIGKILL)

    def test_sigterm_during_produce_exits_0_and_keeps_acked(self):
        topic = self.topic("sigterm")
        self.create(topic)
        producer = Producer(self.conf(**{
            "acks": "all", "linger.ms": 2, "message.timeout.ms": 3000}))
        acked = {}

        def report(err, msg):
            if err is None:
                acked[msg.offset()] = msg.value()
        for i in range(3000):
            try:
                producer.produce(topic, b"s%d" % i, partition=0,
                                 on_delivery=report)
            except BufferError:
                producer.poll(0.01)
            producer.poll(0)
            if i == 1500:
                producer.flush(10)
                self.broker.proc.send_signal(signal.SIGTERM)
        producer.flush(5)
        self.assertEqual(self.broker.proc.wait(timeout=10), 0,
                         self.broker.log()[-3000:])
        self.assertGreaterEqual(len(acked), 1501)
        self.broker.start()
        end = self.high_watermark(topic)
        stored = self.read(topic, end)
        self.assertEqual([o for o in acked if stored.get(o) != acked[o]], [])

    def test_topics_survive_restart(self):
        topic = self.topic("meta")
        self.create(topic, partitions=4)
        self.assertEqual(self.broker.restart(), 0)
        admin = AdminClient(self.conf())
        metadata = admin.list_topics(topic, timeout=10)
        self.assertEqual(sorted(metadata.topics[topic].partitions),
                         [0, 1, 2, 3])
        self.assertIsNone(metadata.topics[topic].error)

    def test_many_partitions_flush_through_the_tail_log_and_survive_kill9(self):
        """Flushes in which 8 or more partitions append are made durable by
        one fsync of the tail log; after kill -9 every acknowledged record of
        every partition is there."""
        topic = self.topic("taillog")
        self.create(topic, partitions=16)
        frames = self.broker.metric("chronik_storage_tail_log_frames_total")
        producer = Producer(self.conf(**{"acks": "all", "linger.ms": 5}))
        acked = {}

        def report(err, msg):
            if err is None:
                acked[(msg.partition(), msg.offset())] = msg.value()
        for i in range(4000):
            while True:
                try:
                    producer.produce(topic, b"t%d" % i, partition=i % 16,
                                     on_delivery=report)
                    break
                except BufferError:
                    producer.poll(0.01)
            producer.poll(0)
        self.assertEqual(producer.flush(15), 0)
        self.assertEqual(len(acked), 4000)
        self.assertGreater(
            self.broker.metric("chronik_storage_tail_log_frames_total"),
            frames)
        # The records wait in memory for their segments (written out at
        # 8 MiB): the kill takes them along, the tail log brings them back.
        self.assertGreater(
            self.broker.metric("chronik_storage_tail_log_buffered_bytes"), 0)
        self.broker.kill9()
        self.broker.start()
        for p in range(16):
            want = {o: v for (q, o), v in acked.items() if q == p}
            self.assertEqual(self.read(topic, len(want), partition=p), want,
                             "partition %d" % p)

    def test_flush_syncfs_min_files_picks_syncfs_or_fsyncs(self):
        """--flush-syncfs-min-files=1: every flush syncs the file system once
        (syncfs); 0: never, each file is fsynced. Restores the default."""
        topic = self.topic("syncfs")
        self.create(topic, partitions=4)
        original = list(self.broker.args)
        try:
            for value, syncfs in ((1, True), (0, False)):
                self.broker.stop()
                self.broker.args = original + [
                    "--flush-syncfs-min-files=%d" % value]
                self.broker.start()
                before = self.broker.metric(
                    "chronik_storage_filesystem_syncs_total")
                fsyncs = self.broker.metric("chronik_storage_fsyncs_total")
                producer = Producer(self.conf(**{"acks": "all"}))
                for i in range(20):
                    producer.produce(topic, b"f%d" % i, partition=i % 4)
                    self.assertEqual(producer.flush(10), 0)
                after = self.broker.metric(
                    "chronik_storage_filesystem_syncs_total")
                if syncfs:
                    self.assertGreaterEqual(after - before, 20)
                else:
                    self.assertEqual(after, before)
                    self.assertGreaterEqual(
                        self.broker.metric("chronik_storage_fsyncs_total") -
                        fsyncs, 20)
        finally:
            self.broker.stop()
            self.broker.args = original
            self.broker.start()


if __name__ == "__main__":
    harness.main()
