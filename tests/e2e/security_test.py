"""SASL and ACLs through real clients against a broker started with
--kafka-security-protocol=SASL_PLAINTEXT, a PLAIN users file and super users:

- kcat, confluent-kafka, kafka-python (SaslHandshake v0 and bare tokens) and
  kafkajs (js/security.js) log in with PLAIN, SCRAM-SHA-256 and
  SCRAM-SHA-512, produce and consume; with a wrong password each gets its
  authentication error and the broker keeps serving the next client.
- SCRAM users are created with AlterUserScramCredentials (kafka_wire.py: no
  installed client has it) by a super user; a non-super user is refused.
- ACLs through kafka-python's KafkaAdminClient (create_acls, describe_acls,
  delete_acls; Debian's confluent-kafka 1.7 has no ACL calls): a user with no
  ACL sees no topic and gets TOPIC_AUTHORIZATION_FAILED producing
  (confluent-kafka); ALLOW WRITE lets it produce, a DENY wins over it; a
  consumer group needs group READ (GROUP_AUTHORIZATION_FAILED before).
"""

import base64
import hashlib
import hmac
import os
import shutil
import struct
import subprocess
import time
import unittest

import confluent_kafka
from confluent_kafka import KafkaError
from confluent_kafka.admin import (AdminClient, ConfigResource, NewPartitions,
                                  NewTopic)
import kafka
import kafka.errors
from kafka.admin import (ACL, ACLFilter, ACLOperation, ACLPermissionType,
                         ACLResourcePatternType, KafkaAdminClient,
                         ResourcePattern, ResourcePatternFilter, ResourceType)

import harness
import kafka_wire as wire

JS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "js")
USERS = {"admin": "admin-secret", "alice": "alice-secret"}
SCRAM = {"SCRAM-SHA-256": ("carol", "carol-256", 1, "sha256"),
         "SCRAM-SHA-512": ("dave", "dave-512", 2, "sha512")}
MECHANISMS = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]
TOPIC_AUTHORIZATION_FAILED = 29
GROUP_AUTHORIZATION_FAILED = 30
CLUSTER_AUTHORIZATION_FAILED = 31


def users_file():
    path = os.path.join(harness.TMP, "users-%d.txt" % os.getpid())
    with open(path, "w") as f:
        f.write("# PLAIN users\n")
        for user, password in USERS.items():
            f.write("%s:%s\n" % (user, password))
    return path


def credentials(mechanism, good=True):
    """(user, password) logging in with `mechanism`."""
    if mechanism == "PLAIN":
        user, password = "admin", USERS["admin"]
    else:
        user, password = SCRAM[mechanism][:2]
    return user, password if good else password + "-wrong"


# --- the raw wire: PLAIN login and AlterUserScramCredentials ------------


def bytes32(b):
    return struct.pack(">i", len(b)) + b


def compact_bytes(b):
    return wire.uvarint(len(b) + 1) + b


def plain_login(conn, user, password):
    """SaslHandshake v1 + SaslAuthenticate v0; the latter's error code."""
    body = conn.call(17, 1, wire.string("PLAIN"))
    assert struct.unpack_from(">h", body)[0] == 0, body
    body = conn.call(36, 0, bytes32(
        b"\0" + user.encode() + b"\0" + password.encode()))
    return struct.unpack_from(">h", body)[0]


def alter_scram(conn, user, mechanism_id, password, digest):
    """AlterUserScramCredentials v0 upserting one credential: the result's
    error code (the top-level is per user)."""
    salt = os.urandom(16)
    salted = hashlib.pbkdf2_hmac(digest, password.encode(), salt, 4096)
    body = (wire.uvarint(1) + wire.uvarint(2) + wire.compact_string(user) +
            struct.pack(">bi", mechanism_id, 4096) + compact_bytes(salt) +
            compact_bytes(salted) + b"\x00" + b"\x00")
    reader = wire.Reader(conn.call(51, 0, body, flexible=True), True)
    reader.int32()  # throttle
    assert reader.array_length() == 1
    assert reader.text() == user
    return reader.int16()


# --- clients -------------------------------------------------------------


def kcat(bootstrap, mechanism, user, password, args, stdin=None):
    return subprocess.run(
        ["kcat", "-b", bootstrap, "-X", "security.protocol=SASL_PLAINTEXT",
         "-X", "sasl.mechanisms=" + mechanism, "-X", "sasl.username=" + user,
         "-X", "sasl.password=" + password] + args,
        input=stdin, capture_output=True, text=True, timeout=60)


def rdkafka_conf(bootstrap, mechanism, user, password, **extra):
    conf = {"bootstrap.servers": bootstrap,
            "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanisms": mechanism, "sasl.username": user,
            "sasl.password": password}
    conf.update(extra)
    return conf


def kafka_python_conf(bootstrap, mechanism, user, password):
    return dict(bootstrap_servers=bootstrap,
                security_protocol="SASL_PLAINTEXT", sasl_mechanism=mechanism,
                sasl_plain_username=user, sasl_plain_password=password,
                request_timeout_ms=15000, api_version_auto_timeout_ms=5000)


def produce_confluent(conf, topic, values):
    """Delivery error codes (None: delivered), one per value."""
    producer = confluent_kafka.Producer(dict(conf, **{
        "message.timeout.ms": 10000, "acks": "all"}))
    results = []

    def delivered(err, _msg):
        results.append(None if err is None else err.code())

    for value in values:
        producer.produce(topic, value.encode(), on_delivery=delivered)
    producer.flush(30)
    return results


def consume_confluent(conf, topic, group, want, timeout_s=30):
    """(values, first error code): polls until `want` values or an error."""
    consumer = confluent_kafka.Consumer(dict(conf, **{
        "group.id": group, "auto.offset.reset": "earliest",
        "session.timeout.ms": 6000}))
    consumer.subscribe([topic])
    values, error = [], None
    deadline = time.time() + timeout_s
    try:
        while time.time() < deadline and len(values) < want:
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            if msg.error():
                if msg.error().code() != KafkaError._PARTITION_EOF:
                    error = msg.error().code()
                    break
                continue
            values.append(msg.value().decode())
    finally:
        consumer.close()
    return values, error


class SaslTest(harness.BrokerTestCase):
    """One SASL_PLAINTEXT broker; admin and the SCRAM users are super users,
    alice is not."""

    broker_args = ("--kafka-security-protocol=SASL_PLAINTEXT",
                   "--super-users=User:admin;User:carol;User:dave")
    scram_created = False

    @classmethod
    def setUpClass(cls):
        cls.broker_args = cls.broker_args + (
            "--sasl-plain-users-file=" + users_file(),)
        super().setUpClass()

    def setUp(self):
        super().setUp()
        if not SaslTest.scram_created:
            self.create_scram_users()
            SaslTest.scram_created = True

    def create_scram_users(self):
        conn = wire.Connection(self.broker.kafka_port)
        try:
            self.assertEqual(plain_login(conn, "admin", USERS["admin"]), 0)
            for _, (user, password, mid, digest) in SCRAM.items():
                self.assertEqual(alter_scram(conn, user, mid, password,
                                             digest), 0)
        finally:
            conn.close()

    def conf(self, mechanism, good=True, **extra):
        user, password = credentials(mechanism, good)
        return rdkafka_conf(self.broker.bootstrap, mechanism, user, password,
                            **extra)

    def assert_log_has(self, text):
        deadline = time.time() + 5
        while time.time() < deadline:
            if text in self.broker.log():
                return
            time.sleep(0.1)
        self.fail("broker log lacks %r:\n%s" % (text, self.broker.log()[-3000:]))

    # --- logins ------------------------------------------------------------

    def test_alter_scram_needs_cluster_alter(self):
        conn = wire.Connection(self.broker.kafka_port)
        try:
            self.assertEqual(plain_login(conn, "alice", USERS["alice"]), 0)
            self.assertEqual(alter_scram(conn, "eve", 1, "x", "sha256"),
                             CLUSTER_AUTHORIZATION_FAILED)
        finally:
            conn.close()

    def test_request_before_login_closes(self):
        conn = wire.Connection(self.broker.kafka_port)
        try:
            conn.send(3, 1, wire.metadata_v1_body([]))
            self.assertTrue(conn.closed_by_peer())
        finally:
            conn.close()
        self.assert_log_has("Metadata before SASL authentication")

    def test_kcat(self):
        for mechanism in MECHANISMS:
            with self.subTest(mechanism=mechanism):
                user, password = credentials(mechanism)
                topic = "kcat-" + mechanism.lower()
                values = ["%s-%d" % (mechanism, i) for i in range(3)]
                out = kcat(self.broker.bootstrap, mechanism, user, password,
                           ["-P", "-t", topic, "-p", "0"],
                           stdin="\n".join(values) + "\n")
                self.assertEqual(out.returncode, 0, out.stderr)
                out = kcat(self.broker.bootstrap, mechanism, user, password,
                           ["-C", "-t", topic, "-o", "beginning", "-e", "-q"])
                self.assertEqual(out.returncode, 0, out.stderr)
                self.assertEqual(out.stdout.split(), values)
                user, wrong = credentials(mechanism, good=False)
                out = kcat(self.broker.bootstrap, mechanism, user, wrong,
                           ["-L", "-m", "5"])
                self.assertNotEqual(out.returncode, 0, out.stdout)
                self.assertIn("Authentication failed", out.stderr)

    def test_confluent(self):
        for mechanism in MECHANISMS:
            with self.subTest(mechanism=mechanism):
                topic = "confluent-" + mechanism.lower()
                values = ["%s-%d" % (mechanism, i) for i in range(3)]
                self.assertEqual(
                    produce_confluent(self.conf(mechanism), topic, values),
                    [None] * 3)
                got, error = consume_confluent(self.conf(mechanism), topic,
                                               "g-" + topic, 3)
                self.assertIsNone(error)
                self.assertEqual(got, values)
                errors = []
                producer = confluent_kafka.Producer(self.conf(
                    mechanism, good=False,
                    error_cb=lambda e: errors.append(e.code())))
                deadline = time.time() + 10
                while time.time() < deadline and not errors:
                    producer.poll(0.2)
                self.assertIn(KafkaError._AUTHENTICATION, errors)

    def test_kafka_python(self):
        for mechanism in MECHANISMS:
            with self.subTest(mechanism=mechanism):
                user, password = credentials(mechanism)
                conf = kafka_python_conf(self.broker.bootstrap, mechanism,
                                         user, password)
                topic = "kafka-python-" + mechanism.lower()
                values = [b"%s-%d" % (mechanism.encode(), i) for i in range(3)]
                producer = kafka.KafkaProducer(acks="all", **conf)
                for value in values:
                    producer.send(topic, value, partition=0).get(timeout=30)
                producer.close()
                consumer = kafka.KafkaConsumer(
                    topic, group_id="g-" + topic, auto_offset_reset="earliest",
                    consumer_timeout_ms=10000, **conf)
                got = []
                for msg in consumer:
                    got.append(msg.value)
                    if len(got) == len(values):
                        break
                consumer.close()
                self.assertEqual(got, values)
                user, wrong = credentials(mechanism, good=False)
                with self.assertRaises(kafka.errors.NoBrokersAvailable):
                    kafka.KafkaProducer(**kafka_python_conf(
                        self.broker.bootstrap, mechanism, user, wrong))
                self.assert_log_has("authentication of '%s' failed" % user)

    def test_kafkajs(self):
        node = shutil.which("node")
        if node is None or not os.path.isdir(
                os.path.join(JS_DIR, "node_modules", "kafkajs")):
            self.fail("node or tests/e2e/js/node_modules/kafkajs missing: "
                      "run tools/setup (it runs npm ci there)")
        for mechanism in MECHANISMS:
            for expect in ("ok", "fail"):
                with self.subTest(mechanism=mechanism, expect=expect):
                    user, password = credentials(mechanism, expect == "ok")
                    proc = subprocess.run(
                        [node, os.path.join(JS_DIR, "security.js"),
                         self.broker.bootstrap, mechanism.lower(), user,
                         password, "kafkajs-" + mechanism.lower(), expect],
                        capture_output=True, text=True, timeout=120)
                    print(proc.stdout)
                    self.assertEqual(proc.returncode, 0,
                                     proc.stdout + proc.stderr)

    # --- ACLs --------------------------------------------------------------

    def admin(self):
        return KafkaAdminClient(**kafka_python_conf(
            self.broker.bootstrap, "PLAIN", "admin", USERS["admin"]))

    def alice(self, **extra):
        return rdkafka_conf(self.broker.bootstrap, "PLAIN", "alice",
                            USERS["alice"], **extra)

    def test_acls(self):
        topic, group = "acl-topic", "alice-group"
        creator = AdminClient(self.conf("PLAIN"))
        creator.create_topics([NewTopic(topic, 1, 1)])[topic].result(30)
        admin = self.admin()
        # No ACL: alice sees no topic and may not write.
        listed = AdminClient(self.alice()).list_topics(timeout=10).topics
        self.assertNotIn(topic, listed)
        self.assertEqual(produce_confluent(self.alice(), topic, ["x"]),
                         [TOPIC_AUTHORIZATION_FAILED])

        def binding(op, permission, rtype=ResourceType.TOPIC, name=topic):
            return ACL("User:alice", "*", op, permission,
                       ResourcePattern(rtype, name,
                                       ACLResourcePatternType.LITERAL))

        allow_write = binding(ACLOperation.WRITE, ACLPermissionType.ALLOW)
        result = admin.create_acls([allow_write])
        self.assertEqual(result["failed"], [], result)
        described, error = admin.describe_acls(ACLFilter(
            principal="User:alice", host="*", operation=ACLOperation.ANY,
            permission_type=ACLPermissionType.ANY,
            resource_pattern=ResourcePatternFilter(
                ResourceType.TOPIC, topic, ACLResourcePatternType.LITERAL)))
        self.assertEqual(error.errno, 0)
        self.assertEqual([(a.operation, a.permission_type)
                          for a in described],
                         [(ACLOperation.WRITE, ACLPermissionType.ALLOW)])
        listed = AdminClient(self.alice()).list_topics(timeout=10).topics
        self.assertIn(topic, listed)  # WRITE implies DESCRIBE
        self.assertEqual(produce_confluent(self.alice(), topic, ["a", "b"]),
                         [None, None])
        # A DENY wins over the ALLOW; deleting it lets alice write again.
        deny_write = binding(ACLOperation.WRITE, ACLPermissionType.DENY)
        self.assertEqual(admin.create_acls([deny_write])["failed"], [])
        self.assertEqual(produce_confluent(self.alice(), topic, ["x"]),
                         [TOPIC_AUTHORIZATION_FAILED])
        deleted = admin.delete_acls([ACLFilter(
            principal="User:alice", host="*", operation=ACLOperation.WRITE,
            permission_type=ACLPermissionType.DENY,
            resource_pattern=ResourcePatternFilter(
                ResourceType.TOPIC, topic, ACLResourcePatternType.LITERAL))])
        self.assertEqual(len(deleted), 1)
        self.assertEqual(len(deleted[0][1]), 1, deleted)
        self.assertEqual(produce_confluent(self.alice(), topic, ["c"]), [None])
        # A group needs group READ besides topic READ.
        self.assertEqual(admin.create_acls([binding(
            ACLOperation.READ, ACLPermissionType.ALLOW)])["failed"], [])
        _, error = consume_confluent(self.alice(), topic, group, 3,
                                     timeout_s=20)
        self.assertEqual(error, GROUP_AUTHORIZATION_FAILED)
        self.assertEqual(admin.create_acls([binding(
            ACLOperation.READ, ACLPermissionType.ALLOW, ResourceType.GROUP,
            group)])["failed"], [])
        got, error = consume_confluent(self.alice(), topic, group, 3)
        self.assertIsNone(error)
        self.assertEqual(got, ["a", "b", "c"])
        admin.close()

    def test_per_resource_checks(self):
        """Without ACLs alice may not describe a topic's configs or add
        partitions (confluent-kafka: TOPIC_AUTHORIZATION_FAILED), nor find a
        group's coordinator to delete it (kafka-python:
        GroupAuthorizationFailedError); admin may."""
        topic = "checked-topic"
        creator = AdminClient(self.conf("PLAIN"))
        creator.create_topics([NewTopic(topic, 1, 1)])[topic].result(30)
        alice = AdminClient(self.alice())
        resource = ConfigResource("topic", topic)
        with self.assertRaises(confluent_kafka.KafkaException) as raised:
            alice.describe_configs([resource])[resource].result(30)
        self.assertEqual(raised.exception.args[0].code(),
                         TOPIC_AUTHORIZATION_FAILED)
        with self.assertRaises(confluent_kafka.KafkaException) as raised:
            alice.create_partitions([NewPartitions(topic, 2)])[topic].result(30)
        self.assertEqual(raised.exception.args[0].code(),
                         TOPIC_AUTHORIZATION_FAILED)
        self.assertIn("cleanup.policy", creator.describe_configs(
            [resource])[resource].result(30))
        client = KafkaAdminClient(**kafka_python_conf(
            self.broker.bootstrap, "PLAIN", "alice", USERS["alice"]))
        try:
            with self.assertRaises(kafka.errors.GroupAuthorizationFailedError):
                client.delete_consumer_groups(["some-group"])
        finally:
            client.close()

    def test_alice_may_not_alter_acls(self):
        client = KafkaAdminClient(**kafka_python_conf(
            self.broker.bootstrap, "PLAIN", "alice", USERS["alice"]))
        try:
            with self.assertRaises(
                    kafka.errors.ClusterAuthorizationFailedError):
                client.describe_acls(ACLFilter(
                    principal=None, host="*", operation=ACLOperation.ANY,
                    permission_type=ACLPermissionType.ANY,
                    resource_pattern=ResourcePatternFilter(
                        ResourceType.ANY, None,
                        ACLResourcePatternType.ANY)))
        finally:
            client.close()


if __name__ == "__main__":
    harness.main()
