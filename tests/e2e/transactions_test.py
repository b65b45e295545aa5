"""Transactions (KIP-98) against chronik-server: confluent-kafka 1.7
(librdkafka 2.0.2) transactional producers (init_transactions, commit,
abort, send_offsets_to_transaction, fencing by a second producer with the
same transactional.id) read back by read_committed and read_uncommitted
consumers; kafkajs 2.2.4's producer.transaction() with sendOffsets, commit
and abort (js/transactions.js); the coordinator's error codes a client hides,
through raw frames (kafka_wire.py); and on a three-process cluster the
coordinator killed with -9 in the middle of transactions: each is committed
exactly once or aborted, never half."""

import os
import shutil
import signal
import struct
import subprocess
import time
import unittest

import harness
import kafka_wire as wire
from confluent_kafka import (Consumer, KafkaError, KafkaException, Producer,
                             TopicPartition)
from confluent_kafka.admin import AdminClient, NewTopic

JS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "js")

API_FIND_COORDINATOR = 10
API_INIT_PRODUCER_ID = 22
API_ADD_PARTITIONS_TO_TXN = 24
API_END_TXN = 26
API_DESCRIBE_TRANSACTIONS = 65
API_LIST_TRANSACTIONS = 66
TRANSACTIONAL_ID_NOT_FOUND = 105

INVALID_PRODUCER_EPOCH = 47
INVALID_TXN_STATE = 48
INVALID_PRODUCER_ID_MAPPING = 49
INVALID_TRANSACTION_TIMEOUT = 50
CONCURRENT_TRANSACTIONS = 51
UNKNOWN_TOPIC_OR_PARTITION = 3
OPERATION_NOT_ATTEMPTED = 55


def conf(bootstrap, **extra):
    c = {"bootstrap.servers": bootstrap, "retry.backoff.ms": 50,
         "socket.timeout.ms": 10000,
         "topic.metadata.refresh.interval.ms": 500}
    c.update(extra)
    return c


def create_topic(bootstrap, topic, partitions, replication=1):
    admin = AdminClient(conf(bootstrap))
    futures = admin.create_topics(
        [NewTopic(topic, partitions, replication)], operation_timeout=10)
    futures[topic].result(timeout=20)


def read_all(bootstrap, topic, isolation, expect_at_least, group=None,
             timeout_s=30):
    """Values in `topic` as a consumer with `isolation` sees them, once it
    has at least `expect_at_least` and nothing new arrives for a second."""
    consumer = Consumer(conf(
        bootstrap, **{"group.id": group or "reader-%s-%f" % (isolation,
                                                              time.time()),
                      "auto.offset.reset": "earliest",
                      "enable.auto.commit": False,
                      "isolation.level": isolation}))
    consumer.subscribe([topic])
    values = []
    deadline = time.time() + timeout_s
    quiet_since = time.time()
    try:
        while time.time() < deadline:
            msg = consumer.poll(0.2)
            if msg is None:
                if (len(values) >= expect_at_least and
                        time.time() - quiet_since > 1.0):
                    break
                continue
            if msg.error():
                continue
            values.append(msg.value().decode())
            quiet_since = time.time()
    finally:
        consumer.close()
    return values


class TransactionsTest(harness.BrokerTestCase):
    broker_args = ("--default-partitions=3",)

    def producer(self, txn_id, **extra):
        p = Producer(conf(self.broker.bootstrap, **{
            "transactional.id": txn_id, "linger.ms": 5,
            "transaction.timeout.ms": 60000, **extra}))
        p.init_transactions(20)
        return p

    def test_read_committed_sees_only_committed_records(self):
        topic = self.topic("txn")
        create_topic(self.broker.bootstrap, topic, 3)
        p = self.producer("tx-commit-abort")
        committed = []
        for batch, commit in (("c", True), ("a", False), ("d", True)):
            p.begin_transaction()
            for i in range(10):
                value = "%s%d" % (batch, i)
                p.produce(topic, value, partition=i % 3)
                if commit:
                    committed.append(value)
            # Sent before the end (an abort drops what is still queued).
            self.assertEqual(p.flush(20), 0)
            if commit:
                p.commit_transaction(20)
            else:
                p.abort_transaction(20)
        got = read_all(self.broker.bootstrap, topic, "read_committed", 20)
        self.assertEqual(sorted(got), sorted(committed))
        everything = read_all(self.broker.bootstrap, topic,
                              "read_uncommitted", 30)
        self.assertEqual(len(everything), 30)

    def test_open_transaction_holds_back_read_committed(self):
        topic = self.topic("txn-open")
        create_topic(self.broker.bootstrap, topic, 1)
        p = self.producer("tx-open")
        p.begin_transaction()
        p.produce(topic, "pending", partition=0)
        self.assertEqual(p.flush(10), 0)
        self.assertEqual(
            read_all(self.broker.bootstrap, topic, "read_committed", 0,
                     timeout_s=3), [])
        self.assertEqual(
            read_all(self.broker.bootstrap, topic, "read_uncommitted", 1),
            ["pending"])
        # The end a read_committed client sees (ListOffsets latest with
        # isolation level 1) is the LSO, before the open transaction.
        self.assertEqual(self.latest(topic, "read_committed"), 0)
        self.assertEqual(self.latest(topic, "read_uncommitted"), 1)
        p.commit_transaction(20)
        self.assertEqual(
            read_all(self.broker.bootstrap, topic, "read_committed", 1),
            ["pending"])
        # The record and the commit marker.
        self.assertEqual(self.latest(topic, "read_committed"), 2)

    def latest(self, topic, isolation):
        c = Consumer(conf(self.broker.bootstrap, **{
            "group.id": "lso", "isolation.level": isolation}))
        try:
            return c.get_watermark_offsets(TopicPartition(topic, 0),
                                           timeout=10)[1]
        finally:
            c.close()

    def test_send_offsets_to_transaction(self):
        source = self.topic("txn-in")
        sink = self.topic("txn-out")
        create_topic(self.broker.bootstrap, source, 1)
        create_topic(self.broker.bootstrap, sink, 1)
        plain = Producer(conf(self.broker.bootstrap))
        for i in range(6):
            plain.produce(source, "in%d" % i, partition=0)
        self.assertEqual(plain.flush(10), 0)
        group = "txn-group-%d" % os.getpid()
        consumer = Consumer(conf(self.broker.bootstrap, **{
            "group.id": group, "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "isolation.level": "read_committed"}))
        consumer.subscribe([source])
        # Asks for the group's offsets without require_stable.
        uncommitted_view = Consumer(conf(self.broker.bootstrap, **{
            "group.id": group, "enable.auto.commit": False,
            "isolation.level": "read_uncommitted"}))
        p = self.producer("tx-offsets")
        seen = []
        deadline = time.time() + 30
        while len(seen) < 6 and time.time() < deadline:
            msg = consumer.poll(0.2)
            if msg is not None and not msg.error():
                seen.append(msg.value().decode())
        self.assertEqual(len(seen), 6)
        # Abort first: the offsets stay uncommitted.
        for commit in (False, True):
            p.begin_transaction()
            for value in seen:
                p.produce(sink, value.replace("in", "out"), partition=0)
            p.send_offsets_to_transaction(
                consumer.position(consumer.assignment()),
                consumer.consumer_group_metadata(), 20)
            committed = uncommitted_view.committed(
                [TopicPartition(source, 0)], timeout=10)[0].offset
            self.assertLess(committed, 6)  # not before the commit
            # A read_committed consumer asks with require_stable: the offset
            # the open transaction staged is unstable (UNSTABLE_OFFSET_COMMIT,
            # which librdkafka retries until the transaction ends).
            with self.assertRaises(KafkaException) as unstable:
                consumer.committed([TopicPartition(source, 0)], timeout=2)
            self.assertEqual(unstable.exception.args[0].code(),
                             KafkaError._TIMED_OUT)
            if commit:
                p.commit_transaction(20)
            else:
                p.abort_transaction(20)
        committed = consumer.committed([TopicPartition(source, 0)],
                                       timeout=10)
        consumer.close()
        uncommitted_view.close()
        self.assertEqual(committed[0].offset, 6)
        out = read_all(self.broker.bootstrap, sink, "read_committed", 6)
        self.assertEqual(out, ["out%d" % i for i in range(6)])

    def test_a_second_producer_fences_the_first(self):
        topic = self.topic("txn-fence")
        create_topic(self.broker.bootstrap, topic, 1)
        first = self.producer("tx-fenced")
        first.begin_transaction()
        first.produce(topic, "zombie", partition=0)
        self.assertEqual(first.flush(10), 0)
        # The new instance aborts the open transaction and bumps the epoch.
        second = self.producer("tx-fenced")
        with self.assertRaises(KafkaException) as raised:
            first.commit_transaction(10)
        error = raised.exception.args[0]
        self.assertIn(error.code(), (KafkaError._FENCED,
                                     KafkaError.PRODUCER_FENCED,
                                     KafkaError.INVALID_PRODUCER_EPOCH),
                      error)
        second.begin_transaction()
        second.produce(topic, "live", partition=0)
        second.commit_transaction(20)
        self.assertEqual(
            read_all(self.broker.bootstrap, topic, "read_committed", 1),
            ["live"])

    def call(self, api_key, version, body):
        conn = wire.Connection(self.broker.kafka_port)
        try:
            return conn.call(api_key, version, body)
        finally:
            conn.close()

    def init_producer_id(self, txn_id, timeout_ms=60000):
        body = wire.string(txn_id) + struct.pack(">i", timeout_ms)
        _, error, pid, epoch = struct.unpack(
            ">ihqh", self.call(API_INIT_PRODUCER_ID, 1, body))
        return error, pid, epoch

    def add_partitions(self, txn_id, pid, epoch, topic, partitions):
        body = (wire.string(txn_id) + struct.pack(">qh", pid, epoch) +
                struct.pack(">i", 1) + wire.string(topic) +
                struct.pack(">i", len(partitions)) +
                b"".join(struct.pack(">i", p) for p in partitions))
        payload = self.call(API_ADD_PARTITIONS_TO_TXN, 1, body)
        (count,) = struct.unpack(">i", payload[4:8])
        self.assertEqual(count, 1)
        (name_len,) = struct.unpack(">h", payload[8:10])
        pos = 10 + name_len
        (n,) = struct.unpack(">i", payload[pos:pos + 4])
        pos += 4
        return [struct.unpack(">ih", payload[pos + 6 * i:pos + 6 * i + 6])
                for i in range(n)]

    def end_txn(self, txn_id, pid, epoch, commit):
        body = (wire.string(txn_id) + struct.pack(">qh?", pid, epoch, commit))
        return struct.unpack(">ih", self.call(API_END_TXN, 1, body))[1]

    def test_coordinator_error_codes(self):
        topic = self.topic("txn-codes")
        create_topic(self.broker.bootstrap, topic, 2)
        body = wire.string("tx-codes") + struct.pack(">b", 1)
        payload = self.call(API_FIND_COORDINATOR, 1, body)
        _, error = struct.unpack(">ih", payload[:6])
        self.assertEqual(error, 0)
        self.assertEqual(self.init_producer_id("tx-codes", 0)[0],
                         INVALID_TRANSACTION_TIMEOUT)
        error, pid, epoch = self.init_producer_id("tx-codes")
        self.assertEqual((error, epoch), (0, 0))
        self.assertEqual(self.init_producer_id("tx-codes")[2], 1)
        # The stale epoch is fenced (v1: INVALID_PRODUCER_EPOCH).
        self.assertEqual(self.add_partitions("tx-codes", pid, 0, topic, [0]),
                         [(0, INVALID_PRODUCER_EPOCH)])
        self.assertEqual(
            self.add_partitions("tx-codes", pid + 1, 1, topic, [0]),
            [(0, INVALID_PRODUCER_ID_MAPPING)])
        self.assertEqual(
            self.add_partitions("tx-codes", pid, 1, topic, [0, 9]),
            [(0, OPERATION_NOT_ATTEMPTED), (9, UNKNOWN_TOPIC_OR_PARTITION)])
        self.assertEqual(self.end_txn("tx-codes", pid, 1, True),
                         INVALID_TXN_STATE)
        self.assertEqual(self.add_partitions("tx-codes", pid, 1, topic, [0]),
                         [(0, 0)])
        self.assertEqual(self.end_txn("tx-codes", pid, 1, False), 0)
        # A retried abort succeeds once complete; a commit is refused.
        harness.wait_until(
            lambda: self.end_txn("tx-codes", pid, 1, False) == 0,
            what="abort completed")
        self.assertEqual(self.end_txn("tx-codes", pid, 1, True),
                         INVALID_TXN_STATE)

    def test_describe_and_list_transactions(self):
        topic = self.topic("txn-describe")
        create_topic(self.broker.bootstrap, topic, 2)
        p = self.producer("tx-described")
        p.begin_transaction()
        p.produce(topic, "x", partition=1)
        self.assertEqual(p.flush(10), 0)
        error, listed = list_transactions(self.broker.kafka_port)
        self.assertEqual(error, 0)
        mine = [t for t in listed if t[0] == "tx-described"]
        self.assertEqual(len(mine), 1)
        self.assertEqual(mine[0][2], "Ongoing")
        described = describe_transactions(self.broker.kafka_port,
                                          ["tx-described", "tx-nobody"])
        self.assertEqual(described[0]["error"], 0)
        self.assertEqual(described[0]["state"], "Ongoing")
        self.assertEqual(described[0]["pid"], mine[0][1])
        self.assertEqual(described[0]["timeout"], 60000)
        self.assertEqual(described[0]["topics"], [(topic, [1])])
        self.assertEqual(described[1]["error"], TRANSACTIONAL_ID_NOT_FOUND)
        p.commit_transaction(20)
        harness.wait_until(
            lambda: describe_transactions(
                self.broker.kafka_port,
                ["tx-described"])[0]["state"] == "CompleteCommit",
            what="CompleteCommit")

    def test_kafkajs_transactions(self):
        node = shutil.which("node")
        modules = os.path.join(JS_DIR, "node_modules", "kafkajs")
        if node is None or not os.path.isdir(modules):
            self.fail("node or tests/e2e/js/node_modules/kafkajs missing: "
                      "run tools/setup (it runs npm ci there)")
        proc = subprocess.run(
            [node, os.path.join(JS_DIR, "transactions.js"),
             self.broker.bootstrap, self.topic("js-txn")],
            capture_output=True, text=True, timeout=120)
        print(proc.stdout)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)


class Flexible:
    """Reads a flexible-version response body (after its header's tags)."""

    def __init__(self, payload):
        self.data, self.pos = payload, 1  # header v1: an empty tag section

    def fixed(self, fmt):
        (value,) = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return value

    def uvarint(self):
        value, self.pos = wire.read_uvarint(self.data, self.pos)
        return value

    def text(self):
        n = self.uvarint() - 1
        value = self.data[self.pos:self.pos + n].decode()
        self.pos += n
        return value

    def array(self, item):
        return [item() for _ in range(self.uvarint() - 1)]

    def tags(self):
        assert self.uvarint() == 0


def list_transactions(port):
    conn = wire.Connection(port)
    try:
        r = Flexible(conn.call(API_LIST_TRANSACTIONS, 0,
                               b"\x01\x01\x00", flexible=True))
    finally:
        conn.close()
    r.fixed(">i")
    error = r.fixed(">h")
    r.array(r.text)

    def state():
        item = (r.text(), r.fixed(">q"), r.text())
        r.tags()
        return item
    return error, r.array(state)


def describe_transactions(port, ids):
    body = wire.uvarint(len(ids) + 1) + b"".join(
        wire.compact_string(i) for i in ids) + b"\x00"
    conn = wire.Connection(port)
    try:
        r = Flexible(conn.call(API_DESCRIBE_TRANSACTIONS, 0, body,
                               flexible=True))
    finally:
        conn.close()
    r.fixed(">i")

    def topic():
        item = (r.text(), r.array(lambda: r.fixed(">i")))
        r.tags()
        return item

    def state():
        item = {"error": r.fixed(">h"), "id": r.text(), "state": r.text(),
                "timeout": r.fixed(">i"), "start": r.fixed(">q"),
                "pid": r.fixed(">q"), "epoch": r.fixed(">h"),
                "topics": r.array(topic)}
        r.tags()
        return item
    return r.array(state)


class CoordinatorKillTest(unittest.TestCase):
    """Three processes; the coordinator (metadata leader) is killed with -9
    while transactions are in flight. Every transaction the producer saw
    committed is read once by read_committed, nothing of an aborted or
    unfinished one is, and no transaction is read in part."""

    def setUp(self):
        self.brokers = harness.start_cluster(self, [1, 2, 3])

    def tearDown(self):
        for broker in self.brokers.values():
            if broker.alive():
                broker.kill9()

    def coordinator(self, txn_id):
        for broker in self.brokers.values():
            if not broker.alive():
                continue
            conn = wire.Connection(broker.kafka_port)
            try:
                payload = conn.call(API_FIND_COORDINATOR, 1,
                                    wire.string(txn_id) +
                                    struct.pack(">b", 1))
            finally:
                conn.close()
            _, error = struct.unpack(">ih", payload[:6])
            if error == 0:
                (msg_len,) = struct.unpack(">h", payload[6:8])
                pos = 8 + max(msg_len, 0)
                (node_id,) = struct.unpack(">i", payload[pos:pos + 4])
                return node_id
        return None

    def test_coordinator_kill9_mid_transaction(self):
        bootstrap = ",".join(b.bootstrap for b in self.brokers.values())
        topic = "txn-kill"
        create_topic(bootstrap, topic, 3, replication=3)
        p = Producer(conf(bootstrap, **{
            "transactional.id": "tx-kill", "linger.ms": 5,
            "transaction.timeout.ms": 10000, "acks": "all"}))
        p.init_transactions(30)
        committed = []
        killed = False
        for t in range(12):
            values = ["t%d-%d" % (t, i) for i in range(6)]
            try:
                p.begin_transaction()
                for i, v in enumerate(values):
                    p.produce(topic, v, partition=i % 3)
                p.flush(30)
                if t == 4 and not killed:
                    node = self.coordinator("tx-kill")
                    self.assertIsNotNone(node)
                    self.brokers[node].kill9()
                    killed = True
                p.commit_transaction(60)
                committed.append(values)
            except KafkaException as e:
                err = e.args[0]
                print("transaction %d: %s" % (t, err))
                if err.txn_requires_abort():
                    p.abort_transaction(60)
                elif not err.retriable():
                    raise
        self.assertTrue(killed)
        self.assertGreaterEqual(len(committed), 6)
        live = ",".join(b.bootstrap for b in self.brokers.values()
                        if b.alive())
        got = read_all(live, topic, "read_committed",
                       sum(len(v) for v in committed), timeout_s=60)
        self.assertEqual(len(got), len(set(got)), "a record read twice")
        by_txn = {}
        for v in got:
            by_txn.setdefault(v.split("-")[0], set()).add(v)
        for values in committed:
            self.assertEqual(by_txn.get(values[0].split("-")[0]),
                             set(values), "a committed transaction")
        for txn, seen in by_txn.items():
            self.assertEqual(len(seen), 6, "transaction %s read in part" % txn)


if __name__ == "__main__":
    harness.main()
