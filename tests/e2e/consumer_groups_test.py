"""Consumer-group semantics with confluent-kafka (librdkafka) against
chronik-server: static membership (KIP-345: a restarted static member gets
its partitions back without a rebalance, its replaced member id is fenced
with FENCED_INSTANCE_ID), cooperative-sticky rebalancing (KIP-429) that
keeps going when a subscribed topic is deleted, no duplicate delivery when a
second member joins (commits on revoke accepted while a rebalance is being
prepared), and a dead member expired on its session timeout while a
rebalance is being prepared."""

import struct
import threading
import time
import unittest

import harness
import kafka_wire as kw
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic

NONE = 0
UNKNOWN_MEMBER_ID = 25
MEMBER_ID_REQUIRED = 79
FENCED_INSTANCE_ID = 82

API_OFFSET_COMMIT = 8
API_JOIN_GROUP = 11
API_HEARTBEAT = 12
API_LEAVE_GROUP = 13
API_SYNC_GROUP = 14


def b_bytes(data):
    return struct.pack(">i", len(data)) + data


class RawMember:
    """A static member speaking JoinGroup v5, SyncGroup v3, Heartbeat v3,
    OffsetCommit v7 and LeaveGroup v3 on its own connection."""

    def __init__(self, port, group, instance):
        self.conn = kw.Connection(port)
        self.group, self.instance = group, instance

    def join(self, member_id="", session_ms=10000, rebalance_ms=10000):
        body = (kw.string(self.group) +
                struct.pack(">ii", session_ms, rebalance_ms) +
                kw.string(member_id) + kw.string(self.instance) +
                kw.string("consumer") + struct.pack(">i", 1) +
                kw.string("range") + b_bytes(b"meta"))
        r = kw.Reader(self.conn.call(API_JOIN_GROUP, 5, body), False)
        _, error, generation = r.take(">ihi")
        r.string()  # protocol name
        leader, member = r.string(), r.string()
        return error, generation, leader, member

    def sync(self, member_id, generation, assignments=()):
        body = (kw.string(self.group) + struct.pack(">i", generation) +
                kw.string(member_id) + kw.string(self.instance) +
                struct.pack(">i", len(assignments)))
        for member, assignment in assignments:
            body += kw.string(member) + b_bytes(assignment)
        r = kw.Reader(self.conn.call(API_SYNC_GROUP, 3, body), False)
        _, error = r.take(">ih")
        return error, r.bytes() or b""

    def heartbeat(self, member_id, generation):
        body = (kw.string(self.group) + struct.pack(">i", generation) +
                kw.string(member_id) + kw.string(self.instance))
        r = kw.Reader(self.conn.call(API_HEARTBEAT, 3, body), False)
        return r.take(">ih")[1]

    def commit(self, member_id, generation, topic):
        body = (kw.string(self.group) + struct.pack(">i", generation) +
                kw.string(member_id) + kw.string(self.instance) +
                struct.pack(">i", 1) + kw.string(topic) +
                struct.pack(">iiqi", 1, 0, 1, -1) + kw.string(None))
        r = kw.Reader(self.conn.call(API_OFFSET_COMMIT, 7, body), False)
        r.take(">ii")  # throttle, topics
        r.string()
        r.take(">i")
        return r.take(">ih")[1]

    def leave(self, member_id, instance):
        body = (kw.string(self.group) + struct.pack(">i", 1) +
                kw.string(member_id) + kw.string(instance))
        r = kw.Reader(self.conn.call(API_LEAVE_GROUP, 3, body), False)
        _, top, _ = r.take(">ihi")
        r.string()
        r.string()
        return top, r.take(">h")


def close_in_background(consumer):
    """Closes a consumer (its group leave) without waiting for its destroy:
    librdkafka 2.0.2's destroy of a consumer that was subscribed to a
    deleted topic waits forever after "Removing all topics"."""
    threading.Thread(target=consumer.close, daemon=True).start()


class Member(Consumer):
    """A consumer remembering the partitions it owns."""


class ConsumerGroupsTest(harness.BrokerTestCase):
    broker_args = ("--default-partitions=4",)

    def conf(self, **extra):
        conf = {"bootstrap.servers": self.broker.bootstrap,
                "topic.metadata.refresh.interval.ms": 500,
                "retry.backoff.ms": 50, "socket.timeout.ms": 10000}
        conf.update(extra)
        return conf

    def create(self, topics, partitions=4):
        admin = AdminClient(self.conf())
        futures = admin.create_topics(
            [NewTopic(t, partitions, 1) for t in topics], operation_timeout=10)
        for f in futures.values():
            f.result(timeout=15)

    def produce(self, topic, values, partitions=4):
        producer = Producer(self.conf(**{"linger.ms": 5}))
        for i, v in enumerate(values):
            producer.produce(topic, v, partition=i % partitions)
        self.assertEqual(producer.flush(20), 0, "undelivered messages")

    def member(self, name, group, topics, log, **extra):
        """A consumer whose assignment callbacks append to `log`."""
        consumer = Member(self.conf(**{
            "group.id": group, "enable.auto.commit": False,
            "auto.offset.reset": "earliest", "fetch.wait.max.ms": 100,
            "session.timeout.ms": 10000, "heartbeat.interval.ms": 300,
            **extra}))
        consumer.owned = set()

        def on_assign(c, parts):
            log.append((name, "assign", sorted(
                (p.topic, p.partition) for p in parts)))
            c.owned |= {(p.topic, p.partition) for p in parts}

        def on_revoke(c, parts):
            log.append((name, "revoke", sorted(
                (p.topic, p.partition) for p in parts)))
            if getattr(c, "on_revoke_commit", False) and parts:
                try:  # as applications do: a failed commit is logged
                    c.commit(asynchronous=False)
                except KafkaException as e:
                    log.append((name, "commit failed", str(e)))
            c.owned -= {(p.topic, p.partition) for p in parts}

        consumer.on_assign, consumer.on_revoke = on_assign, on_revoke
        consumer.subscribe(topics, on_assign=on_assign, on_revoke=on_revoke)
        return consumer

    def poll_all(self, consumers, seconds, seen=None):
        deadline = time.time() + seconds
        while time.time() < deadline:
            for c in consumers:
                msg = c.poll(0.05)
                if msg is None:
                    continue
                if msg.error():
                    if msg.error().code() in (KafkaError._PARTITION_EOF,
                                              KafkaError.UNKNOWN_TOPIC_OR_PART):
                        continue
                    self.fail("consume error: %s" % msg.error())
                if seen is not None:
                    seen.add(msg.value())

    def poll_collect(self, consumers, seconds, values):
        """Polls, appending every record's value to `values` (a list, so
        a duplicate shows)."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            for c in consumers:
                msg = c.poll(0.05)
                if msg is None or msg.error():
                    continue
                values.append(msg.value())

    def settle(self, consumers, total, timeout_s=30, log=None):
        """Polls until the consumers own `total` partitions between them."""
        deadline = time.time() + timeout_s
        while time.time() < deadline:
            self.poll_all(consumers, 0.3)
            if sum(len(c.owned) for c in consumers) == total and all(
                    c.owned for c in consumers):
                return
        self.fail("no settled assignment: %s %s" %
                  ([c.owned for c in consumers], log))

    def test_static_member_restart_keeps_partitions_without_rebalance(self):
        topic = self.topic("static")
        self.create([topic])
        group = self.topic("g-static")
        log = []
        a = self.member("a", group, [topic], log, **{"group.instance.id": "a"})
        b = self.member("b", group, [topic], log, **{"group.instance.id": "b"})
        self.settle([a, b], 4)
        a_parts = set(a.owned)
        self.poll_all([a, b], 1.0)
        log_before = list(log)
        a.close()  # a static member sends no LeaveGroup
        a2 = self.member("a2", group, [topic], log,
                         **{"group.instance.id": "a"})
        self.settle([a2, b], 4, timeout_s=8)
        self.poll_all([a2, b], 3.0)  # time for any rebalance to show
        self.assertEqual(a2.owned, a_parts)
        b_events = [e for e in log[len(log_before):] if e[0] == "b"]
        self.assertEqual(b_events, [], "the other member was rebalanced")
        a2.close()
        b.close()

    def test_replaced_static_member_id_is_fenced(self):
        topic = self.topic("fenced")
        self.create([topic])
        group = self.topic("g-fenced")
        first = RawMember(self.broker.kafka_port, group, "inst")
        error, generation, leader, old = first.join()
        self.assertEqual(error, NONE)  # static: no MEMBER_ID_REQUIRED round
        self.assertEqual(leader, old)
        self.assertEqual(first.sync(old, generation, [(old, b"mine")]),
                         (NONE, b"mine"))
        # The restart: same instance id, no member id.
        second = RawMember(self.broker.kafka_port, group, "inst")
        error, generation2, leader2, new = second.join()
        self.assertEqual(error, NONE)
        self.assertNotEqual(new, old)
        self.assertEqual(generation2, generation)  # no rebalance
        self.assertEqual(leader2, old)  # the old leader id: it must not assign
        self.assertEqual(second.sync(new, generation2), (NONE, b"mine"))
        self.assertEqual(second.heartbeat(new, generation), NONE)
        # The replaced member id, with the instance id, is fenced.
        self.assertEqual(first.heartbeat(old, generation), FENCED_INSTANCE_ID)
        self.assertEqual(first.sync(old, generation)[0], FENCED_INSTANCE_ID)
        self.assertEqual(first.commit(old, generation, topic),
                         FENCED_INSTANCE_ID)
        self.assertEqual(first.join(old)[0], FENCED_INSTANCE_ID)
        self.assertEqual(first.leave(old, "inst"), (NONE, FENCED_INSTANCE_ID))
        self.assertEqual(first.leave("", "nobody"), (NONE, UNKNOWN_MEMBER_ID))
        # LeaveGroup by instance id removes the static member.
        self.assertEqual(first.leave(new, "inst"), (NONE, NONE))
        self.assertEqual(second.heartbeat(new, generation), UNKNOWN_MEMBER_ID)

    # librdkafka 2.0.2 keeps an UNKNOWN_TOPIC_OR_PARTITION answer in its
    # metadata cache for 100 ms only and retries a join at most once a
    # second, each time waiting until every subscribed topic is cached: a
    # member still subscribed to a deleted topic and told
    # REBALANCE_IN_PROGRESS never rejoins. It does the same against Apache
    # Kafka (librdkafka issue 2981: "Expired 1 entries from metadata cache",
    # then "only available for 0/1 topics" every second). The members here
    # do what its users do: drop the deleted topic from their subscription,
    # an incremental rebalance in which they keep what they own.
    def test_cooperative_sticky_survives_topic_deletion(self):
        keep, doomed = self.topic("coop-keep"), self.topic("coop-doomed")
        self.create([keep, doomed])
        group = self.topic("g-coop")
        log = []
        coop = {"partition.assignment.strategy": "cooperative-sticky"}
        a = self.member("a", group, [keep, doomed], log, **coop)
        b = self.member("b", group, [keep, doomed], log, **coop)
        self.settle([a, b], 8)
        admin = AdminClient(self.conf())  # must outlive the future
        futures = admin.delete_topics([doomed], operation_timeout=10)
        futures[doomed].result(timeout=15)
        self.settle([a, b], 4, timeout_s=30, log=log)
        kept = {m: set(m.owned) for m in (a, b)}
        for m in (a, b):
            m.subscribe([keep], on_assign=m.on_assign, on_revoke=m.on_revoke)
        self.poll_all([a, b], 2.0)
        self.settle([a, b], 4, timeout_s=20, log=log)
        for m in (a, b):
            self.assertEqual(m.owned, kept[m], "cooperative: nothing moves")
        seen = set()
        values = [b"after-delete-%d" % i for i in range(20)]
        self.produce(keep, values)
        deadline = time.time() + 20
        while time.time() < deadline and not set(values) <= seen:
            self.poll_all([a, b], 0.5, seen)
        self.assertLessEqual(set(values), seen, "consumption stalled")
        # A third member: an incremental rebalance that completes.
        c = self.member("c", group, [keep], log, **coop)
        self.settle([a, b, c], 4, timeout_s=20, log=log)
        more = [b"after-join-%d" % i for i in range(20)]
        self.produce(keep, more)
        deadline = time.time() + 20
        while time.time() < deadline and not set(more) <= seen:
            self.poll_all([a, b, c], 0.5, seen)
        self.assertLessEqual(set(more), seen, "consumption stalled")
        # Members leaving: the others take their partitions over.
        close_in_background(a)
        self.settle([b, c], 4, timeout_s=20, log=log)
        close_in_background(b)
        self.settle([c], 4, timeout_s=20, log=log)
        close_in_background(c)

    def test_second_member_joining_causes_no_duplicate_delivery(self):
        # Eager protocol: the first member commits what it consumed when its
        # partitions are revoked; the second then starts from those commits.
        topic = self.topic("nodup")
        self.create([topic])
        group = self.topic("g-nodup")
        first_half = [b"first-%d" % i for i in range(40)]
        self.produce(topic, first_half)
        log, seen = [], []
        a = self.member("a", group, [topic], log,
                        **{"partition.assignment.strategy": "range"})
        a.on_revoke_commit = True
        deadline = time.time() + 20
        while time.time() < deadline and len(seen) < len(first_half):
            self.poll_collect([a], 0.5, seen)
        self.assertEqual(sorted(seen), sorted(first_half))
        b = self.member("b", group, [topic], log,
                        **{"partition.assignment.strategy": "range"})
        b.on_revoke_commit = True
        deadline = time.time() + 30
        while time.time() < deadline and not (a.owned and b.owned):
            self.poll_collect([a, b], 0.3, seen)  # what the rebalance reads
        self.assertEqual(len(a.owned) + len(b.owned), 4, log)
        second_half = [b"second-%d" % i for i in range(40)]
        self.produce(topic, second_half)
        deadline = time.time() + 20
        while time.time() < deadline and len(seen) < 80:
            self.poll_collect([a, b], 0.5, seen)
        self.poll_collect([a, b], 2.0, seen)  # time for a duplicate to show
        self.assertEqual(sorted(seen), sorted(first_half + second_half),
                         "each record delivered once")
        a.close()
        b.close()

    def test_dead_member_is_expired_while_a_rebalance_is_prepared(self):
        # A member that stops without leaving (its session 6 s, its
        # rebalance timeout 120 s): a newcomer's round must not wait for it
        # beyond its session timeout, as in Kafka.
        topic = self.topic("dead")
        self.create([topic])
        group = self.topic("g-dead")
        dead = RawMember(self.broker.kafka_port, group, None)
        error, generation, _, member = dead.join(
            session_ms=6000, rebalance_ms=120000)
        if error == MEMBER_ID_REQUIRED:
            error, generation, _, member = dead.join(
                member, session_ms=6000, rebalance_ms=120000)
        self.assertEqual(error, NONE)
        self.assertEqual(dead.sync(member, generation,
                                   [(member, b"")])[0], NONE)
        started = time.time()
        log = []
        newcomer = self.member("new", group, [topic], log)
        self.settle([newcomer], 4, timeout_s=30, log=log)
        self.assertLess(time.time() - started, 20,
                        "the round waited for the dead member's rebalance "
                        "timeout instead of its session timeout")
        newcomer.close()


if __name__ == "__main__":
    harness.main()
