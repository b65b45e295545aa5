"""Kafka's answers that real clients depend on, through confluent-kafka
(librdkafka 2.0.2), librdkafka's C API and kafka-python: LogAppendTime topics,
offsets committed for partitions that do not exist, KIP-74 fetch limits (only
the first partition with data of a response may exceed fetch.max.bytes;
librdkafka stalls on a response that breaks that), manual replica
assignments, requests with trailing bytes, the initial rebalance delay and
null error messages in config answers."""

import os
import subprocess
import threading
import time

import harness
from confluent_kafka import (Consumer, KafkaError, KafkaException, Producer,
                             TopicPartition)
from confluent_kafka.admin import AdminClient, NewPartitions, NewTopic

UNKNOWN_TOPIC_OR_PARTITION = 3
# Built by Bazel beside this suite (a data dependency, in the runfiles).
PROBE = os.path.join(os.getcwd(), "tests/e2e/rdkafka_groups_probe")
TIMESTAMP_LOG_APPEND_TIME = 2  # confluent_kafka.TIMESTAMP_LOG_APPEND_TIME


class KafkaSemanticsTest(harness.BrokerTestCase):

    def conf(self, **extra):
        conf = {"bootstrap.servers": self.broker.bootstrap,
                "topic.metadata.refresh.interval.ms": 500,
                "retry.backoff.ms": 50}
        conf.update(extra)
        return conf

    def create(self, topic, partitions=1, config=None):
        admin = AdminClient(self.conf())
        futures = admin.create_topics(
            [NewTopic(topic, partitions, 1, config=config or {})],
            operation_timeout=10)
        futures[topic].result(timeout=15)

    def produce(self, topic, values, partition=0, **conf):
        producer = Producer(self.conf(**conf))
        errors = []
        for value in values:
            producer.produce(topic, value, partition=partition,
                             timestamp=1000,
                             on_delivery=lambda err, msg: err and
                             errors.append(err))
        self.assertEqual(producer.flush(20), 0, "undelivered messages")
        self.assertEqual(errors, [])

    def consume(self, partitions, count, timeout_s=20, **conf):
        consumer = Consumer(self.conf(**{"group.id": "reader",
                                         "enable.auto.commit": False,
                                         **conf}))
        consumer.assign(partitions)
        out = []
        deadline = time.time() + timeout_s
        try:
            while time.time() < deadline and len(out) < count:
                msg = consumer.poll(0.2)
                if msg is None:
                    continue
                if msg.error():
                    if msg.error().code() == KafkaError._PARTITION_EOF:
                        continue
                    self.fail("consume error: %s" % msg.error())
                out.append(msg)
        finally:
            consumer.close()
        return out

    def test_log_append_time_replaces_the_producers_timestamp(self):
        topic = self.topic("appended")
        self.create(topic, config={"message.timestamp.type": "LogAppendTime"})
        before_ms = int(time.time() * 1000)
        self.produce(topic, [b"a", b"b", b"c"])
        after_ms = int(time.time() * 1000)
        msgs = self.consume([TopicPartition(topic, 0, 0)], 3)
        self.assertEqual(len(msgs), 3)
        for msg in msgs:
            kind, ts = msg.timestamp()
            self.assertEqual(kind, TIMESTAMP_LOG_APPEND_TIME)
            self.assertGreaterEqual(ts, before_ms - 1000)
            self.assertLessEqual(ts, after_ms + 1000)
        # The producer's time (1000) is not what offsets_for_times finds.
        consumer = Consumer(self.conf(**{"group.id": "times"}))
        try:
            found = consumer.offsets_for_times(
                [TopicPartition(topic, 0, 5000)], timeout=10)
            self.assertEqual(found[0].offset, 0)
        finally:
            consumer.close()

    def test_offset_commit_for_a_missing_topic_is_refused(self):
        topic = self.topic("committed")
        self.create(topic, partitions=2)
        consumer = Consumer(self.conf(**{"group.id": self.topic("g")}))
        try:
            try:
                result = consumer.commit(
                    offsets=[TopicPartition(topic, 1, 5),
                             TopicPartition(topic, 7, 5),
                             TopicPartition(self.topic("missing"), 0, 5)],
                    asynchronous=False)
                errors = [tp.error and tp.error.code() for tp in result]
            except KafkaException as e:
                # librdkafka raises on any per-partition error; the partition
                # results ride on the exception's argument.
                errors = [e.args[0].code()]
            self.assertIn(UNKNOWN_TOPIC_OR_PARTITION, errors)
            committed = consumer.committed([TopicPartition(topic, 1)],
                                           timeout=10)
            self.assertEqual(committed[0].offset, 5)
        finally:
            consumer.close()

    def test_fetch_response_stays_within_fetch_max_bytes(self):
        # Three partitions, each one ~80 KB batch; fetch.max.bytes 100 KB.
        # librdkafka refuses a response above receive.message.max.bytes
        # (fetch.max.bytes + 512 here), so a broker that returns a batch of
        # every partition (240 KB) stalls the consumer.
        topic = self.topic("bigbatches")
        self.create(topic, partitions=3)
        value = b"x" * 20000
        for partition in range(3):
            self.produce(topic, [value] * 4, partition=partition,
                         **{"linger.ms": 100, "batch.size": 1000000})
        msgs = self.consume(
            [TopicPartition(topic, p, 0) for p in range(3)], 12,
            timeout_s=15,
            **{"fetch.max.bytes": 100000, "message.max.bytes": 100000,
               "max.partition.fetch.bytes": 100000,
               "receive.message.max.bytes": 100512})
        self.assertEqual(len(msgs), 12, "the consumer stalled")

    def test_manual_replica_assignment(self):
        admin = AdminClient(self.conf())
        broker_id = admin.list_topics(timeout=10).brokers
        self.assertEqual(len(broker_id), 1)
        me = list(broker_id)[0]
        topic = self.topic("manual")
        admin.create_topics(
            [NewTopic(topic, 2, replica_assignment=[[me], [me]])],
            operation_timeout=10)[topic].result(timeout=15)
        meta = admin.list_topics(topic, timeout=10).topics[topic]
        self.assertEqual(sorted(meta.partitions), [0, 1])
        self.assertEqual(meta.partitions[1].replicas, [me])
        self.assertEqual(meta.partitions[1].leader, me)
        # A broker that does not exist: INVALID_REPLICA_ASSIGNMENT.
        bad = self.topic("badassign")
        with self.assertRaises(KafkaException) as caught:
            admin.create_topics(
                [NewTopic(bad, 1, replica_assignment=[[me + 7]])],
                operation_timeout=10)[bad].result(timeout=15)
        self.assertEqual(caught.exception.args[0].code(),
                         KafkaError.INVALID_REPLICA_ASSIGNMENT)
        with self.assertRaises(KafkaException) as caught:
            admin.create_partitions(
                [NewPartitions(topic, 3, replica_assignment=[[me + 7]])],
                operation_timeout=10)[topic].result(timeout=15)
        self.assertEqual(caught.exception.args[0].code(),
                         KafkaError.INVALID_REPLICA_ASSIGNMENT)
        admin.create_partitions(
            [NewPartitions(topic, 3, replica_assignment=[[me]])],
            operation_timeout=10)[topic].result(timeout=15)
        meta = admin.list_topics(topic, timeout=10).topics[topic]
        self.assertEqual(sorted(meta.partitions), [0, 1, 2])

    def test_librdkafka_lists_groups_and_their_offsets(self):
        # librdkafka 2.0.2 sends ListGroups v4 with a doubled tag byte and
        # OffsetFetch v7 for all partitions with trailing bytes; Kafka
        # ignores bytes after a request's last field.
        topic = self.topic("listed")
        self.create(topic, partitions=2)
        group = self.topic("lg")
        consumer = Consumer(self.conf(**{"group.id": group}))
        try:
            consumer.commit(offsets=[TopicPartition(topic, 0, 3),
                                     TopicPartition(topic, 1, 4)],
                            asynchronous=False)
        finally:
            consumer.close()
        probe = subprocess.run(
            [PROBE, self.broker.bootstrap, group], capture_output=True,
            text=True, timeout=60)
        self.assertEqual(probe.returncode, 0, probe.stderr)
        lines = probe.stdout.splitlines()
        self.assertIn("offset %s 0 3" % topic, lines)
        self.assertIn("offset %s 1 4" % topic, lines)

    def test_members_arriving_together_make_one_generation(self):
        # group.initial.rebalance.delay.ms (3 s by default, as Kafka): a new
        # group's first round waits for more members, so two consumers
        # subscribing a second apart are assigned once each instead of the
        # first one being assigned everything and then rebalanced.
        topic = self.topic("together")
        self.create(topic, partitions=4)
        group = self.topic("tg")
        lock = threading.Lock()
        assignments = [[], []]  # per member: each assignment it was given
        stop = threading.Event()

        def run(index):
            def on_assign(consumer, partitions):
                with lock:
                    assignments[index].append(
                        sorted(tp.partition for tp in partitions))
            consumer = Consumer(self.conf(**{
                "group.id": group, "session.timeout.ms": 6000,
                "heartbeat.interval.ms": 300}))
            consumer.subscribe([topic], on_assign=on_assign)
            while not stop.is_set():
                consumer.poll(0.1)
            consumer.close()
        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        threads[0].start()
        time.sleep(1)
        threads[1].start()

        def both_assigned():
            with lock:
                return all(assignments)
        try:
            harness.wait_until(both_assigned, timeout_s=30,
                               what="both members assigned")
            time.sleep(1)  # a second rebalance would show by now
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=30)
        with lock:
            self.assertEqual([len(a) for a in assignments], [1, 1],
                             assignments)
            self.assertEqual(sorted(assignments[0][0] + assignments[1][0]),
                             [0, 1, 2, 3])

    def test_config_answers_carry_a_null_message_unless_an_error(self):
        # kafka-python, as Kafka answers: error_message null when all is well.
        from kafka import KafkaAdminClient
        from kafka.admin import ConfigResource, ConfigResourceType
        topic = self.topic("configs")
        self.create(topic)
        admin = KafkaAdminClient(bootstrap_servers=self.broker.bootstrap,
                                 request_timeout_ms=10000)
        try:
            described = admin.describe_configs(
                [ConfigResource(ConfigResourceType.TOPIC, topic)])
            error_code, error_message = described[0].resources[0][:2]
            self.assertEqual((error_code, error_message), (0, None))
            altered = admin.alter_configs(
                [ConfigResource(ConfigResourceType.TOPIC, topic,
                                configs={"retention.ms": "60000"})])
            self.assertEqual(altered.resources[0][:2], (0, None))
        finally:
            admin.close()


if __name__ == "__main__":
    harness.main()
