"""The admin and consumer-group APIs through real clients, with Kafka's
answers (error codes included):

- confluent-kafka's AdminClient (librdkafka 2.0.2): CreateTopics with
  configs (unknown ones INVALID_CONFIG, also validate_only), topic names of
  Kafka's maximum length (249) and the name rule (INVALID_TOPIC_EXCEPTION),
  DescribeConfigs' sources and synonyms, AlterConfigs of a broker resource
  (read-only here: INVALID_REQUEST) and of bad topic values (INVALID_CONFIG);
- librdkafka's DeleteGroups and DeleteConsumerGroupOffsets
  (rdkafka_admin_probe, which Debian's confluent-kafka 1.7 lacks):
  NON_EMPTY_GROUP, GROUP_ID_NOT_FOUND, GROUP_SUBSCRIBED_TO_TOPIC,
  UNKNOWN_TOPIC_OR_PARTITION;
- kafka-python's delete_consumer_groups, list_consumer_groups and
  describe_configs(include_synonyms=True);
- kafkajs's createTopics, deleteGroups and describeConfigs (js/admin_apis.js);
- through kafka_wire.py the APIs no installed client has:
  IncrementalAlterConfigs v0-1 and DescribeLogDirs v0-4.
"""

import os
import re
import shutil
import subprocess
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic
from kafka import KafkaConsumer
from kafka import TopicPartition as KpTopicPartition
from kafka.admin import ConfigResource as KpConfigResource
from kafka.admin import ConfigResourceType, KafkaAdminClient
from kafka.structs import OffsetAndMetadata

import harness
import kafka_wire as wire

PROBE = os.path.join(os.getcwd(), "tests/e2e/rdkafka_admin_probe")
JS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "js")

UNKNOWN_TOPIC_OR_PARTITION = 3
INVALID_TOPIC_EXCEPTION = 17
INVALID_CONFIG = 40
INVALID_REQUEST = 42
TOPIC_CONFIG = 1
STATIC_BROKER_CONFIG = 4
DEFAULT_CONFIG = 5


class AdminApisTest(harness.BrokerTestCase):

    def admin(self):
        return AdminClient({"bootstrap.servers": self.broker.bootstrap})

    def node_id(self):
        return re.search(harness.START_LINE, self.broker.log()).group(3)

    def create(self, admin, topics, **options):
        """{topic: Kafka error code (0 for none)}"""
        codes = {}
        for name, future in admin.create_topics(topics, **options).items():
            try:
                future.result(timeout=30)
                codes[name] = 0
            except KafkaException as e:
                codes[name] = e.args[0].code()
        return codes

    def describe(self, admin, resource):
        return admin.describe_configs([resource])[resource].result(timeout=30)

    def commit(self, group, offsets):
        """Commits {(topic, partition): offset} outside the group
        protocol (a consumer that assigns partitions itself)."""
        consumer = Consumer({"bootstrap.servers": self.broker.bootstrap,
                             "group.id": group})
        try:
            consumer.commit(offsets=[TopicPartition(t, p, o)
                                     for (t, p), o in offsets.items()],
                            asynchronous=False)
        finally:
            consumer.close()

    def committed(self, group, topic, partition=0):
        consumer = Consumer({"bootstrap.servers": self.broker.bootstrap,
                             "group.id": group})
        try:
            return consumer.committed([TopicPartition(topic, partition)],
                                      timeout=10)[0].offset
        finally:
            consumer.close()

    def running_member(self, group, topic):
        """A confluent consumer of `group` subscribed to `topic`, once it
        has its assignment (the caller closes it)."""
        consumer = Consumer({"bootstrap.servers": self.broker.bootstrap,
                             "group.id": group,
                             "session.timeout.ms": 6000})
        consumer.subscribe([topic])
        deadline = time.time() + 30
        while not consumer.assignment() and time.time() < deadline:
            consumer.poll(0.1)
        self.assertTrue(consumer.assignment(), "no assignment for " + group)
        return consumer

    def probe(self, *args):
        proc = subprocess.run([PROBE, self.broker.bootstrap] + list(args),
                              capture_output=True, text=True, timeout=60)
        return proc.returncode, proc.stdout.splitlines(), proc.stderr

    # --- confluent-kafka --------------------------------------------------
    def test_confluent_create_topics_checks_configs_and_names(self):
        admin = self.admin()
        topic = self.topic("cfg")
        self.assertEqual(self.create(admin, [NewTopic(
            topic, 2, 1, config={"retention.ms": "3600000",
                                 "cleanup.policy": "compact",
                                 "segment.ms": "600000"})],
            operation_timeout=10, request_timeout=15), {topic: 0})
        self.assertEqual(self.create(admin, [NewTopic(
            topic + "-x", 1, 1, config={"no.such.config": "1"})]),
            {topic + "-x": INVALID_CONFIG})
        self.assertEqual(self.create(admin, [NewTopic(
            topic + "-y", 1, 1, config={"retention.ms": "soon"})],
            validate_only=True), {topic + "-y": INVALID_CONFIG})
        self.assertEqual(self.create(admin, [NewTopic(
            topic + "-z", 1, 1, config={"no.such.config": "1"})],
            validate_only=True), {topic + "-z": INVALID_CONFIG})
        self.assertEqual(self.create(admin, [NewTopic(
            topic + "-v", 2, replica_assignment=[[int(self.node_id())]] * 2,
            config={"retention.ms": "1000"})], validate_only=True),
            {topic + "-v": 0})
        listed = admin.list_topics(timeout=10).topics
        self.assertIn(topic, listed)
        for name in ("-x", "-y", "-z", "-v"):
            self.assertNotIn(topic + name, listed)

        # Kafka's name rule: [a-zA-Z0-9._-], at most 249, not "." or "..".
        longest = ("L%d-" % (int(time.time() * 1000) % 100000)).ljust(249, "x")
        self.assertEqual(len(longest), 249)
        self.assertEqual(self.create(admin, [NewTopic(longest, 1, 1)]),
                         {longest: 0})
        producer = Producer({"bootstrap.servers": self.broker.bootstrap})
        for i in range(3):
            producer.produce(longest, b"v%d" % i)
        self.assertEqual(producer.flush(15), 0)
        consumer = Consumer({"bootstrap.servers": self.broker.bootstrap,
                             "group.id": "long-reader",
                             "auto.offset.reset": "earliest"})
        consumer.assign([TopicPartition(longest, 0, 0)])
        values = []
        deadline = time.time() + 20
        while len(values) < 3 and time.time() < deadline:
            message = consumer.poll(0.5)
            if message is not None and message.error() is None:
                values.append(message.value())
        consumer.close()
        self.assertEqual(values, [b"v0", b"v1", b"v2"])
        for bad in ("M" * 250, "..", "sp ace"):
            self.assertEqual(self.create(admin, [NewTopic(bad, 1, 1)]),
                             {bad: INVALID_TOPIC_EXCEPTION}, bad)

    def test_confluent_describe_configs_sources_and_synonyms(self):
        admin = self.admin()
        topic = self.topic("syn")
        self.assertEqual(self.create(admin, [NewTopic(
            topic, 1, 1, config={"retention.ms": "3600000"})]), {topic: 0})
        configs = self.describe(admin, ConfigResource("topic", topic))
        retention = configs["retention.ms"]
        self.assertEqual(retention.value, "3600000")
        self.assertEqual(retention.source, TOPIC_CONFIG)
        self.assertFalse(retention.is_default)
        self.assertEqual(
            [(s.name, s.value, s.source) for s in retention.synonyms.values()],
            [("retention.ms", "3600000", TOPIC_CONFIG),
             ("log.retention.ms", "604800000", DEFAULT_CONFIG)])
        segment = configs["segment.bytes"]
        self.assertEqual(segment.source, DEFAULT_CONFIG)
        self.assertTrue(segment.is_default)
        self.assertEqual([s.name for s in segment.synonyms.values()],
                         ["log.segment.bytes"])

        broker = self.describe(admin, ConfigResource("broker", self.node_id()))
        partitions = broker["num.partitions"]
        self.assertTrue(partitions.is_read_only)
        self.assertIn(partitions.source, (STATIC_BROKER_CONFIG,
                                          DEFAULT_CONFIG))
        self.assertEqual(list(partitions.synonyms.values())[-1].source,
                         DEFAULT_CONFIG)

    def test_confluent_alter_configs_of_brokers_and_bad_values(self):
        admin = self.admin()
        topic = self.topic("alt")
        self.assertEqual(self.create(admin, [NewTopic(topic, 1, 1)]),
                         {topic: 0})

        def alter(resource, **options):
            future = admin.alter_configs([resource], **options)[resource]
            try:
                future.result(timeout=30)
                return 0, None
            except KafkaException as e:
                return e.args[0].code(), e.args[0].str()

        code, message = alter(ConfigResource(
            "broker", self.node_id(), set_config={"num.partitions": "3"}))
        self.assertEqual(code, INVALID_REQUEST)
        self.assertIn("num.partitions", message)
        self.assertEqual(alter(ConfigResource(
            "topic", topic, set_config={"retention.ms": "x"}))[0],
            INVALID_CONFIG)
        self.assertEqual(alter(ConfigResource(
            "topic", topic, set_config={"retention.ms": "5000"}),
            validate_only=True), (0, None))
        self.assertEqual(
            self.describe(admin, ConfigResource("topic", topic))[
                "retention.ms"].value, "604800000")
        self.assertEqual(alter(ConfigResource(
            "topic", topic, set_config={"retention.ms": "5000"})), (0, None))
        self.assertEqual(
            self.describe(admin, ConfigResource("topic", topic))[
                "retention.ms"].value, "5000")

    # --- librdkafka's group admin calls ------------------------------------
    def test_librdkafka_deletes_groups_and_group_offsets(self):
        admin = self.admin()
        topic = self.topic("dg")
        other = self.topic("dgo")
        self.assertEqual(self.create(admin, [NewTopic(topic, 1, 1),
                                             NewTopic(other, 1, 1)]),
                         {topic: 0, other: 0})
        stored, busy, never = (self.topic("stored"), self.topic("busy"),
                               self.topic("never"))
        self.commit(stored, {(topic, 0): 4})
        self.commit(busy, {(topic, 0): 5, (other, 0): 6})
        member = self.running_member(busy, topic)
        try:
            code, lines, err = self.probe("delete-groups", stored, busy, never)
            self.assertEqual(code, 0, err)
            self.assertEqual(sorted(lines), sorted([
                "group %s NO_ERROR" % stored,
                "group %s NON_EMPTY_GROUP" % busy,
                "group %s GROUP_ID_NOT_FOUND" % never]))
            self.assertLess(self.committed(stored, topic), 0)
            self.assertEqual(self.committed(busy, topic), 5)

            # OffsetDelete: the member subscribes to `topic`, not `other`.
            code, lines, err = self.probe(
                "delete-offsets", busy, "%s:0" % topic, "%s:0" % other)
            self.assertEqual(code, 0, err)
            self.assertIn("partition %s 0 GROUP_SUBSCRIBED_TO_TOPIC" % topic,
                          lines)
            self.assertIn("partition %s 0 NO_ERROR" % other, lines)
            self.assertEqual(self.committed(busy, topic), 5)
            self.assertLess(self.committed(busy, other), 0)
        finally:
            member.close()
        code, lines, err = self.probe("delete-offsets", never, "%s:0" % topic)
        self.assertIn("error GROUP_ID_NOT_FOUND", lines, (lines, err))
        # The member left: the group is empty and may go.
        code, lines, err = self.probe("delete-groups", busy)
        self.assertEqual(lines, ["group %s NO_ERROR" % busy], err)
        self.assertLess(self.committed(busy, topic), 0)

    # --- kafka-python ------------------------------------------------------
    def test_kafka_python_deletes_groups_and_describes_synonyms(self):
        topic = self.topic("kp")
        admin = KafkaAdminClient(bootstrap_servers=self.broker.bootstrap)
        try:
            self.assertEqual(self.create(self.admin(), [NewTopic(
                topic, 1, 1, config={"retention.bytes": "1048576"})]),
                {topic: 0})
            group = self.topic("kpg")
            consumer = KafkaConsumer(bootstrap_servers=self.broker.bootstrap,
                                     group_id=group, enable_auto_commit=False)
            consumer.assign([KpTopicPartition(topic, 0)])
            consumer.commit({KpTopicPartition(topic, 0):
                             OffsetAndMetadata(3, None)})
            consumer.close()
            # Known by its offsets only: listed Empty, as Kafka lists it.
            self.assertIn(group, [g for g, _ in admin.list_consumer_groups()])
            never = self.topic("kpnever")
            deleted = dict(admin.delete_consumer_groups([group, never]))
            self.assertEqual(deleted[group].__name__, "NoError")
            self.assertEqual(deleted[never].__name__, "GroupIdNotFoundError")
            self.assertNotIn(group,
                             [g for g, _ in admin.list_consumer_groups()])

            response = admin.describe_configs(
                [KpConfigResource(ConfigResourceType.TOPIC, topic)],
                include_synonyms=True)[0]
            entries = {e[0]: e for e in response.resources[0][4]}
            name, value, read_only, source, _, synonyms = entries[
                "retention.bytes"]
            self.assertEqual((value, read_only, source),
                             ("1048576", False, TOPIC_CONFIG))
            self.assertEqual([tuple(s) for s in synonyms],
                             [("retention.bytes", "1048576", TOPIC_CONFIG),
                              ("log.retention.bytes", "-1", DEFAULT_CONFIG)])
        finally:
            admin.close()

    # --- kafkajs -----------------------------------------------------------
    def test_kafkajs_delete_groups_and_describe_configs(self):
        node = shutil.which("node")
        modules = os.path.join(JS_DIR, "node_modules", "kafkajs")
        if node is None or not os.path.isdir(modules):
            self.fail("node or tests/e2e/js/node_modules/kafkajs missing: "
                      "run tools/setup (it runs npm ci there)")
        proc = subprocess.run(
            [node, os.path.join(JS_DIR, "admin_apis.js"),
             self.broker.bootstrap, self.topic("kjs")],
            capture_output=True, text=True, timeout=120)
        print(proc.stdout)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)

    # --- kafka_wire: APIs no installed client has --------------------------
    def test_wire_incremental_alter_configs(self):
        admin = self.admin()
        topic = self.topic("inc")
        self.assertEqual(self.create(admin, [NewTopic(topic, 1, 1)]),
                         {topic: 0})

        def alter(version, configs, validate_only=False,
                  resource=(wire.RESOURCE_TOPIC, None)):
            rtype, name = resource
            name = topic if name is None else name
            body = wire.incremental_alter_configs_body(
                version, [(rtype, name, configs)], validate_only)
            conn = wire.Connection(self.broker.kafka_port)
            try:
                payload = conn.call(wire.API_INCREMENTAL_ALTER_CONFIGS,
                                    version, body, flexible=version >= 1)
            finally:
                conn.close()
            return wire.parse_incremental_alter_configs(version,
                                                        payload)[(rtype, name)]

        def value(name):
            return self.describe(admin, ConfigResource("topic", topic))[
                name].value

        for version in (0, 1):
            self.assertEqual(alter(version, [
                ("retention.ms", wire.OP_SET, "%d000" % (version + 1)),
                ("cleanup.policy", wire.OP_APPEND, "compact")]), (0, None))
            self.assertEqual(value("retention.ms"), "%d000" % (version + 1))
            self.assertEqual(value("cleanup.policy"), "delete,compact")
            self.assertEqual(alter(version, [
                ("cleanup.policy", wire.OP_SUBTRACT, "compact"),
                ("retention.ms", wire.OP_DELETE, None)]), (0, None))
            self.assertEqual(value("cleanup.policy"), "delete")
            self.assertEqual(value("retention.ms"), "604800000")
            self.assertEqual(alter(version, [
                ("retention.ms", wire.OP_SET, "7")], validate_only=True),
                (0, None))
            self.assertEqual(value("retention.ms"), "604800000")
            for configs, code in [
                    ([("no.such.config", wire.OP_SET, "1")], INVALID_CONFIG),
                    ([("retention.ms", wire.OP_SET, "soon")], INVALID_CONFIG),
                    ([("retention.ms", wire.OP_APPEND, "1")], INVALID_CONFIG),
                    ([("retention.ms", wire.OP_SET, None)], INVALID_REQUEST),
                    ([("retention.ms", 7, "1")], INVALID_REQUEST)]:
                got, message = alter(version, configs)
                self.assertEqual(got, code, configs)
                self.assertTrue(message, configs)
            self.assertEqual(alter(version, [
                ("retention.ms", wire.OP_SET, "1")],
                resource=(wire.RESOURCE_TOPIC, topic + "-gone"))[0],
                UNKNOWN_TOPIC_OR_PARTITION)
            self.assertEqual(alter(version, [
                ("num.partitions", wire.OP_SET, "3")],
                resource=(wire.RESOURCE_BROKER, self.node_id()))[0],
                INVALID_REQUEST)

    def test_wire_describe_log_dirs(self):
        admin = self.admin()
        topic = self.topic("ld")
        self.assertEqual(self.create(admin, [NewTopic(topic, 2, 1)]),
                         {topic: 0})
        producer = Producer({"bootstrap.servers": self.broker.bootstrap})
        for i in range(20):
            producer.produce(topic, b"x" * 100, partition=1)
        self.assertEqual(producer.flush(15), 0)
        for version in range(5):
            conn = wire.Connection(self.broker.kafka_port)
            try:
                payload = conn.call(
                    wire.API_DESCRIBE_LOG_DIRS, version,
                    wire.describe_log_dirs_body(version, {topic: [0, 1, 7]}),
                    flexible=version >= 2)
                error, dirs = wire.parse_describe_log_dirs(version, payload)
                all_payload = conn.call(
                    wire.API_DESCRIBE_LOG_DIRS, version,
                    wire.describe_log_dirs_body(version, None),
                    flexible=version >= 2)
                _, all_dirs = wire.parse_describe_log_dirs(version,
                                                           all_payload)
            finally:
                conn.close()
            self.assertEqual(error, 0)
            self.assertEqual(len(dirs), 1, version)
            entry = dirs[0]
            self.assertEqual(entry["error"], 0)
            self.assertEqual(entry["log_dir"], self.broker.data_dir)
            self.assertEqual(sorted(entry["partitions"]),
                             [(topic, 0), (topic, 1)])  # 7 does not exist
            empty = entry["partitions"][(topic, 0)]
            written = entry["partitions"][(topic, 1)]
            self.assertGreater(written[0], empty[0] + 20 * 100)
            self.assertEqual(written[1:], (0, False))
            self.assertIn((topic, 1), all_dirs[0]["partitions"])
            if version >= 4:
                self.assertGreater(entry["total_bytes"], 0)
                self.assertGreaterEqual(entry["usable_bytes"], 0)
                self.assertLessEqual(entry["usable_bytes"],
                                     entry["total_bytes"])
            else:
                self.assertEqual(entry["total_bytes"], -1)


if __name__ == "__main__":
    harness.main()
