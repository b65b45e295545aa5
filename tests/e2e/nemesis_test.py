"""Nemesis: three real chronik-server processes, each in its own network
namespace (netns.py), under a seeded schedule of faults while idempotent
acks=all producers and a two-member consumer group run; afterwards the whole
history is checked for lost, duplicated and reordered acknowledged records.

Faults hit one node (or one link) at a time, so a majority stays up: kill -9
and restart, SIGSTOP then SIGCONT, SIGTERM (controlled shutdown, exit status
0) and restart, one node isolated from its peers, the link between two nodes
cut. Clients in the root namespace reach every node throughout. After each
fault is healed the cluster must recover (every node ready, every partition
led with its whole ISR and followers caught up) before the next one starts.

CHRONIK_NEMESIS_SEED replays a schedule (the seed is printed; the targets
"the controller" or "node k" are drawn from it, which node is the controller
at that moment is not); CHRONIK_NEMESIS_SECONDS is the time after which no
new fault starts (default 60; every fault kind runs once regardless).

Namespaces need root: elsewhere the nemesis test is skipped, printing why.
The history checker's self-test (HistoryCheckerTest) runs everywhere.
"""

import atexit
import collections
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

import harness
import netns

TOPIC = "nemesis"
GROUP = "nemesis-group"
PARTITIONS = 6
NODES = (0, 1, 2)
PRODUCERS = 2
RATE_PER_PRODUCER = 250  # records per second
KAFKA_PORT, RAFT_PORT, HTTP_PORT = 9092, 9192, 9644  # in every namespace
# Shorter than the defaults (9 s, 30 s) so that a paused or cut-off node is
# fenced and leaves the ISR within the test's few seconds of fault.
BROKER_FLAGS = ["--broker-session-timeout-ms=5000",
                "--replica-lag-time-max-ms=6000"]
RECOVERY_TIMEOUT_S = 45
MAX_CAUGHT_UP_LAG = 20  # Raft entries a follower may lack while "caught up"
KINDS = ("kill9", "pause", "sigterm", "isolate", "cut")

# One acknowledged record: producer index, its sequence number (the value
# encodes both), where the broker said it was stored, and when (monotonic).
Ack = collections.namedtuple("Ack", "producer seq partition offset time")


def value_of(producer, seq):
    return b"%d-%08d" % (producer, seq)


def parse_value(value):
    """(producer, seq) of a value this suite wrote, else None."""
    try:
        producer, seq = value.split(b"-")
        return int(producer), int(seq)
    except (ValueError, AttributeError):
        return None


# --- the history checker --------------------------------------------------

def check_history(acked, final, group_seen=(), committed=None):
    """Judges one run. `acked`: [Ack]; `final`: {partition: [(offset,
    value)]}, the full read after healing; `group_seen`: [(partition, offset,
    value)] delivered to the group's members; `committed`: {partition: the
    group's last committed offset}. Returns [(kind, detail)], empty when the
    history is good. Kinds: lost, duplicated, reordered, offset-mismatch,
    foreign (a value this suite did not write), group-skipped (committed past
    but delivered to no member), group-divergent (a member saw another value
    at that offset than the final read)."""
    problems = []
    where = collections.defaultdict(list)  # (producer, seq) -> [(p, o)]
    stored = {}  # (partition, offset) -> value
    for partition, records in final.items():
        for offset, value in records:
            stored[(partition, offset)] = value
            key = parse_value(value)
            if key is None:
                problems.append(("foreign", "%r at %d/%d" % (
                    value, partition, offset)))
            else:
                where[key].append((partition, offset))
    # Idempotence: nothing is stored twice, acknowledged or not.
    for key, places in sorted(where.items()):
        if len(places) > 1:
            problems.append(("duplicated", "%r at %s" % (value_of(*key),
                                                         places)))
    acked_keys = set()
    for ack in acked:
        key = (ack.producer, ack.seq)
        acked_keys.add(key)
        places = where.get(key, [])
        if not places:
            problems.append(("lost", "%r acked at %d/%d" % (
                value_of(*key), ack.partition, ack.offset)))
        elif (ack.partition, ack.offset) not in places:
            problems.append(("offset-mismatch", "%r acked at %d/%d, found at "
                             "%s" % (value_of(*key), ack.partition,
                                     ack.offset, places)))
    # Per partition and producer, acknowledged records in produce order.
    for partition, records in sorted(final.items()):
        last = {}
        for offset, value in sorted(records):
            key = parse_value(value)
            if key not in acked_keys:
                continue
            producer, seq = key
            if producer in last and seq < last[producer][0]:
                problems.append(("reordered", "%r at %d/%d after %r at %d" % (
                    value, partition, offset, value_of(producer,
                                                       last[producer][0]),
                    last[producer][1])))
            last[producer] = (seq, offset)
    problems += check_group(acked, stored, group_seen, committed or {})
    return problems


def check_group(acked, stored, group_seen, committed):
    """At-least-once for the group: below a partition's committed offset,
    every acknowledged record was delivered to some member; what members saw
    is what the log holds."""
    problems = []
    seen = set()
    for partition, offset, value in group_seen:
        seen.add((partition, offset))
        if stored.get((partition, offset), value) != value:
            problems.append(("group-divergent", "%d/%d: member saw %r, log "
                             "has %r" % (partition, offset, value,
                                         stored[(partition, offset)])))
    for ack in acked:
        if (ack.offset < committed.get(ack.partition, 0) and
                (ack.partition, ack.offset) not in seen):
            problems.append(("group-skipped", "%d/%d (%r) below committed %d"
                             % (ack.partition, ack.offset,
                                value_of(ack.producer, ack.seq),
                                committed[ack.partition])))
    return problems


def longest_gap(times, start, end):
    """(seconds, at) of the longest stretch in [start, end] without a time
    of `times` (the unavailability window as clients saw it)."""
    points = [start] + sorted(t for t in times if start <= t <= end) + [end]
    return max((b - a, a) for a, b in zip(points, points[1:]))


def worst_partition_gap(acked, start, end):
    """(seconds, at, partition): the longest gap between consecutive acks of
    one partition, over all partitions."""
    return max(longest_gap([a.time for a in acked if a.partition == p],
                           start, end) + (p,) for p in range(PARTITIONS))


class HistoryCheckerTest(harness.unittest.TestCase):
    """The checker finds each kind of broken history (it can fail)."""

    def history(self):
        # Producer 0 wrote seq 0..5 to partitions seq % 2; all acknowledged.
        acked = [Ack(0, s, s % 2, s // 2, float(s)) for s in range(6)]
        final = {p: [(a.offset, value_of(0, a.seq)) for a in acked
                     if a.partition == p] for p in (0, 1)}
        return acked, final

    def kinds(self, *args):
        return sorted({kind for kind, _ in check_history(*args)})

    def test_clean_history_passes(self):
        acked, final = self.history()
        seen = [(p, o, v) for p in final for o, v in final[p]]
        self.assertEqual(check_history(acked, final, seen, {0: 3, 1: 3}), [])

    def test_lost_record(self):
        acked, final = self.history()
        del final[1][2]  # seq 5
        self.assertEqual(self.kinds(acked, final), ["lost"])

    def test_duplicated_record(self):
        acked, final = self.history()
        final[0].append((3, value_of(0, 4)))
        self.assertEqual(self.kinds(acked, final), ["duplicated"])

    def test_reordered_records(self):
        acked, final = self.history()
        final[0] = [(0, value_of(0, 0)), (1, value_of(0, 4)),
                    (2, value_of(0, 2))]
        self.assertIn("reordered", self.kinds(acked, final))
        acked = [a._replace(offset=3 - a.offset) if a.seq in (2, 4) else a
                 for a in acked]  # even the acks agreeing with the log
        self.assertEqual(self.kinds(acked, final), ["reordered"])

    def test_offset_mismatch_and_foreign_value(self):
        acked, final = self.history()
        final[1] = [(0, b"junk")] + [(o + 1, v) for o, v in final[1]]
        self.assertEqual(self.kinds(acked, final),
                         ["foreign", "offset-mismatch"])

    def test_group_skipped_and_divergent(self):
        acked, final = self.history()
        seen = [(0, 0, value_of(0, 0)), (0, 2, value_of(0, 4))]
        self.assertEqual(self.kinds(acked, final, seen, {0: 3}),
                         ["group-skipped"])
        seen.append((0, 1, b"0-00000099"))
        self.assertEqual(self.kinds(acked, final, seen, {0: 3}),
                         ["group-divergent"])

    def test_longest_gap(self):
        self.assertEqual(longest_gap([1.0, 1.5, 4.0], 0.0, 5.0), (2.5, 1.5))


# --- the workload ---------------------------------------------------------

def client_debug():
    """librdkafka debug contexts from CHRONIK_NEMESIS_CLIENT_DEBUG (e.g.
    "eos,msg"), logged to stderr by librdkafka itself (lines name the
    client: rdkafka#producer-N, rdkafka#consumer-N); {} when unset."""
    contexts = os.environ.get("CHRONIK_NEMESIS_CLIENT_DEBUG")
    return {"debug": contexts} if contexts else {}


class ProducerLoad(threading.Thread):
    """An idempotent acks=all producer writing value_of(index, seq) to
    partition seq % PARTITIONS at a steady rate; keeps every ack."""

    def __init__(self, index, bootstrap):
        super().__init__(daemon=True, name="producer-%d" % index)
        self.index = index
        self.acked = []
        self.delivery_errors = []  # "seq N: error"
        self.client_errors = collections.Counter()  # error name -> count
        self.unflushed = None
        self.phase = "producing"  # what the thread is doing, for diagnosis
        self.stop = threading.Event()
        self.producer = Producer(dict({
            "bootstrap.servers": bootstrap, "enable.idempotence": True,
            "acks": "all", "linger.ms": 5, "message.timeout.ms": 120000,
            "error_cb": self.on_error}, **client_debug()))

    def on_error(self, err):
        self.client_errors[err.name()] += 1

    def on_delivery(self, err, msg):
        _, seq = parse_value(msg.value())
        if err is not None:
            self.delivery_errors.append("seq %d: %s" % (seq, err))
        else:
            self.acked.append(Ack(self.index, seq, msg.partition(),
                                  msg.offset(), time.monotonic()))

    def run(self):
        seq, due = 0, time.monotonic()
        while not self.stop.is_set():
            try:
                self.producer.produce(TOPIC, partition=seq % PARTITIONS,
                                      value=value_of(self.index, seq),
                                      on_delivery=self.on_delivery)
                seq += 1
                due = max(due + 1.0 / RATE_PER_PRODUCER, time.monotonic() - 1)
            except BufferError:
                due = time.monotonic() + 0.05
            # Serve delivery reports until the next record is due (a
            # negative timeout would make poll wait forever).
            left = due - time.monotonic()
            while left > 0:
                self.producer.poll(left)
                left = due - time.monotonic()
            self.producer.poll(0)
        self.phase = "flushing"
        self.unflushed = self.producer.flush(120)
        self.phase = "done"


class GroupMember(threading.Thread):
    """A consumer-group member; records every delivery and commits its
    position synchronously about once a second."""

    def __init__(self, index, bootstrap):
        super().__init__(daemon=True, name="member-%d" % index)
        self.seen = []  # (partition, offset, value)
        self.commits = 0
        self.commit_errors = collections.Counter()
        self.phase = "consuming"
        self.stop = threading.Event()
        self.consumer = Consumer(dict({
            "bootstrap.servers": bootstrap, "group.id": GROUP,
            "enable.auto.commit": False, "auto.offset.reset": "earliest",
            "session.timeout.ms": 10000, "heartbeat.interval.ms": 1000},
            **client_debug()))

    def commit(self):
        phase, self.phase = self.phase, "committing"
        try:
            self.consumer.commit(asynchronous=False)
            self.commits += 1
        except KafkaException as error:
            self.commit_errors[error.args[0].name()] += 1
        self.phase = phase

    def run(self):
        self.consumer.subscribe([TOPIC])
        last_commit = time.monotonic()
        while not self.stop.is_set():
            message = self.consumer.poll(0.2)
            if message is not None and message.error() is None:
                self.seen.append((message.partition(), message.offset(),
                                  message.value()))
            if time.monotonic() - last_commit >= 1.0:
                self.commit()
                last_commit = time.monotonic()
        self.commit()
        self.phase = "closing"
        self.consumer.close()
        self.phase = "done"


# --- the cluster and the nemesis ------------------------------------------

class NemesisTest(harness.unittest.TestCase):

    def setUp(self):
        reason = netns.unavailable_reason()
        if reason:
            print("nemesis_test SKIPPED: %s" % reason)
            self.skipTest(reason)
        removed = netns.cleanup_stale()
        if removed:
            print("removed what an earlier run left: %s" % removed)
        self.net = netns.Network(len(NODES))
        self.brokers = {}
        self.torn_down = False
        self.addCleanup(self.teardown_all)  # also when setUp fails below
        atexit.register(self.teardown_all)
        # Bazel's timeout sends SIGTERM: leave through the cleanups.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        self.net.setup()
        self.t0 = time.monotonic()

    def teardown_all(self):
        if getattr(self, "torn_down", True):
            return
        self.torn_down = True
        for broker in self.brokers.values():
            if broker.alive():
                os.kill(broker.proc.pid, signal.SIGCONT)
                broker.kill9()
        self.net.teardown()

    def now(self):
        return time.monotonic() - self.t0

    def say(self, text):
        print("[%6.1fs] %s" % (self.now(), text))

    # --- cluster ----------------------------------------------------------
    def start_cluster(self):
        text = "enabled = true\nreplication_factor = 3\n" \
               "min_insync_replicas = 2\n"
        for node in NODES:
            text += ('\n[[peers]]\nid = %d\naddr = "%s:%d"\nraft_port = %d\n'
                     'http_port = %d\n' % (node, self.net.address(node),
                                           KAFKA_PORT, RAFT_PORT, HTTP_PORT))
        path = os.path.join(harness.TMP, "nemesis-%d.toml" % os.getpid())
        with open(path, "w") as f:
            f.write(text)
        for node in NODES:
            broker = harness.Broker(
                "nemesis-node%d" % node, host=self.net.address(node),
                wrapper=self.net.exec_prefix(node),
                args=["--cluster-config=%s" % path, "--node-id=%d" % node,
                      "--bind-addr=%s" % self.net.address(node)] +
                BROKER_FLAGS)
            broker.kafka_port, broker.http_port = KAFKA_PORT, HTTP_PORT
            self.brokers[node] = broker.start(wait_ready=False)
        for broker in self.brokers.values():
            broker.wait_ready(timeout_s=30)

    def bootstrap(self):
        return ",".join(self.brokers[n].bootstrap for n in NODES)

    def statuses(self):
        """{node: /v1/cluster} of every node, or a reason why not all."""
        found = {}
        for node, broker in self.brokers.items():
            if not broker.alive():
                return "node %d is not running" % node
            code, _ = broker.http_get("/ready", timeout_s=2)
            if code != 200:
                return "node %d not ready (%s)" % (node, code)
            code, body = broker.http_get("/v1/cluster", timeout_s=2)
            if code != 200:
                return "node %d: /v1/cluster answered %s" % (node, code)
            found[node] = json.loads(body)
        return found

    def health(self):
        """None when every node is ready, all agree on the controller, every
        broker is live and every partition's leader has its whole ISR with
        followers caught up; else what is missing."""
        found = self.statuses()
        if isinstance(found, str):
            return found
        controllers = {s["metadata"]["leader"] for s in found.values()}
        if len(controllers) != 1 or min(controllers) < 0:
            return "controllers %s" % sorted(controllers)
        controller = found[controllers.pop()]
        fenced = [b["id"] for b in controller["brokers"]
                  if b["status"] != "live"]
        if fenced or len(controller["brokers"]) != len(NODES):
            return "brokers %s" % controller["brokers"]
        for partition in range(PARTITIONS):
            led = [p for node, s in found.items() for p in s["partitions"]
                   if p["partition"] == partition and p["leader"] == node and
                   p["lag"] is not None]
            if not led:
                return "partition %d has no leader" % partition
            view = max(led, key=lambda p: p["leader_term"])
            if len(view["isr"]) != len(NODES) or max(
                    view["lag"].values()) > MAX_CAUGHT_UP_LAG:
                return "partition %d: isr %s lag %s" % (
                    partition, view["isr"], view["lag"])
        return None

    def wait_healthy(self, after):
        """Waits for health(); fails naming `after` and the last reason."""
        started = time.monotonic()
        deadline = started + RECOVERY_TIMEOUT_S
        reason = "not checked"
        while time.monotonic() < deadline:
            reason = self.health()
            if reason is None:
                return time.monotonic() - started
            time.sleep(0.2)
        logs = "\n".join("--- node %d:\n%s" % (n, b.log()[-3000:])
                         for n, b in self.brokers.items())
        self.fail("cluster not recovered %ds after %s: %s\n%s" % (
            RECOVERY_TIMEOUT_S, after, reason, logs))

    def controller(self):
        found = self.statuses()
        if isinstance(found, dict):
            leaders = [s["metadata"]["leader"] for s in found.values()]
            if leaders and leaders[0] in self.brokers:
                return leaders[0]
        return None

    # --- faults -----------------------------------------------------------
    def draw_fault(self, rng, kind):
        """The parameters of one fault, drawn from the seeded `rng`: a
        target ("controller" or a node), a duration, the quiet time after
        recovery."""
        target = "controller" if rng.random() < 0.5 else rng.choice(NODES)
        other = rng.choice([1, 2])  # the cut's other end: target + other
        return {"kind": kind, "target": target, "other": other,
                "seconds": round(rng.uniform(2.0, 7.0), 1),
                "quiet": round(rng.uniform(1.0, 3.0), 1)}

    def apply_fault(self, fault):
        """Applies and heals one fault; returns its description."""
        node = fault["target"]
        if node == "controller":
            node = self.controller()
            node = 0 if node is None else node
        broker, seconds = self.brokers[node], fault["seconds"]
        kind = fault["kind"]
        if kind == "kill9":
            broker.kill9()
            time.sleep(seconds)
            broker.start(wait_ready=False)
            return "kill -9 node %d, restarted after %.1f s" % (node, seconds)
        if kind == "pause":
            os.kill(broker.proc.pid, signal.SIGSTOP)
            try:
                time.sleep(seconds)
            finally:
                os.kill(broker.proc.pid, signal.SIGCONT)
            return "SIGSTOP node %d, SIGCONT after %.1f s" % (node, seconds)
        if kind == "sigterm":
            started = time.monotonic()
            broker.proc.send_signal(signal.SIGTERM)
            try:
                code = broker.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.fail("node %d still running 15 s after SIGTERM:\n%s" % (
                    node, broker.log()[-5000:]))
            took = time.monotonic() - started
            self.assertEqual(code, 0, "node %d exit status on SIGTERM:\n%s" %
                             (node, broker.log()[-5000:]))
            time.sleep(seconds / 2)
            broker.start(wait_ready=False)
            return "SIGTERM node %d: exit 0 after %.1f s, restarted" % (
                node, took)
        peers = [n for n in NODES if n != node]
        try:
            if kind == "isolate":
                self.net.isolate(node)
                what = "isolate node %d from %s" % (node, peers)
            else:
                peer = NODES[(node + fault["other"]) % len(NODES)]
                self.net.cut(node, peer)
                what = "cut link %d-%d" % (node, peer)
            time.sleep(seconds)
        finally:
            self.net.heal()
        return "%s for %.1f s, healed" % (what, seconds)

    def run_nemesis(self, seed, budget_s):
        """Every kind once in a seeded order, then seeded picks until the
        budget is spent. Returns [(description, start, healed, recovered)]
        in monotonic seconds."""
        rng = random.Random(seed)
        kinds = list(KINDS)
        rng.shuffle(kinds)
        applied = []
        started = time.monotonic()
        while kinds or time.monotonic() - started < budget_s:
            fault = self.draw_fault(rng, kinds.pop(0) if kinds else
                                    rng.choice(KINDS))
            begin = time.monotonic()
            self.say("fault %d: %s" % (len(applied) + 1, fault))
            what = self.apply_fault(fault)
            healed = time.monotonic()
            recovery = self.wait_healthy(what)
            self.say("  %s; recovered %.1f s after" % (what, recovery))
            applied.append((what, begin, healed, time.monotonic()))
            time.sleep(fault["quiet"])
        return applied

    # --- after the faults -------------------------------------------------
    def committed(self):
        consumer = Consumer({"bootstrap.servers": self.bootstrap(),
                             "group.id": GROUP, "enable.auto.commit": False})
        try:
            offsets = consumer.committed(
                [TopicPartition(TOPIC, p) for p in range(PARTITIONS)],
                timeout=20)
        finally:
            consumer.close()
        return {tp.partition: max(tp.offset, 0) for tp in offsets}

    def read_all(self):
        """{partition: [(offset, value)]}: every partition from its start
        to its high watermark."""
        consumer = Consumer({"bootstrap.servers": self.bootstrap(),
                             "group.id": "nemesis-verify",
                             "enable.auto.commit": False})
        try:
            ends = {p: consumer.get_watermark_offsets(
                TopicPartition(TOPIC, p), timeout=20)[1]
                for p in range(PARTITIONS)}
            consumer.assign([TopicPartition(TOPIC, p, 0)
                             for p in range(PARTITIONS)])
            final = {p: [] for p in range(PARTITIONS)}
            next_offset = {p: 0 for p in range(PARTITIONS)}
            deadline = time.monotonic() + 60
            while any(next_offset[p] < ends[p] for p in range(PARTITIONS)):
                self.assertLess(time.monotonic(), deadline,
                                "final read stuck at %s of %s" % (
                                    next_offset, ends))
                message = consumer.poll(0.2)
                if message is None or message.error() is not None:
                    continue
                final[message.partition()].append((message.offset(),
                                                   message.value()))
                next_offset[message.partition()] = message.offset() + 1
        finally:
            consumer.close()
        return final

    def test_history_under_nemesis(self):
        seed = int(os.environ.get("CHRONIK_NEMESIS_SEED",
                                  random.SystemRandom().randrange(1 << 32)))
        budget_s = float(os.environ.get("CHRONIK_NEMESIS_SECONDS", "60"))
        print("nemesis seed %d (replay: CHRONIK_NEMESIS_SEED=%d), budget "
              "%.0f s, namespaces %s, subnet 10.77.%d.0/24" % (
                  seed, seed, budget_s, self.net.names, self.net.subnet))
        self.start_cluster()
        admin = AdminClient({"bootstrap.servers": self.bootstrap()})
        admin.create_topics([NewTopic(TOPIC, num_partitions=PARTITIONS,
                                      replication_factor=3)])[TOPIC].result(
                                          timeout=30)
        self.say("cluster up, topic created; healthy after %.1f s" %
                 self.wait_healthy("topic creation"))

        producers = [ProducerLoad(i, self.bootstrap())
                     for i in range(PRODUCERS)]
        members = [GroupMember(i, self.bootstrap()) for i in range(2)]
        for thread in producers + members:
            thread.start()
        harness.wait_until(lambda: sum(len(p.acked) for p in producers) > 200,
                           timeout_s=30, what="acks flowing")
        load = [time.monotonic(), None]  # when the measured load ran
        try:
            faults = self.run_nemesis(seed, budget_s)
            # Healed: the cluster keeps acknowledging.
            before = sum(len(p.acked) for p in producers)
            time.sleep(3)
            self.assertGreater(sum(len(p.acked) for p in producers), before,
                               "no acks in the 3 s after the last heal")
        finally:
            load[1] = time.monotonic()
            for thread in producers + members:
                thread.stop.set()
            for thread in producers + members:
                thread.join(timeout=150)
                self.assertFalse(thread.is_alive(), "%s still %s after 150 s"
                                 % (thread.name, thread.phase))
        self.say("load stopped")
        committed = self.committed()
        final = self.read_all()
        self.say("final read done")

        acked = [a for p in producers for a in p.acked]
        seen = [s for m in members for s in m.seen]
        self.summarize(seed, faults, load, producers, members, acked, final,
                       committed)
        self.assertEqual([p.unflushed for p in producers], [0] * PRODUCERS,
                         "records still unacknowledged after flush")
        problems = check_history(acked, final, seen, committed)
        counts = collections.Counter(kind for kind, _ in problems)
        self.assertEqual(problems[:20], [], "seed %d: %s" % (seed,
                                                             dict(counts)))

    def summarize(self, seed, faults, load, producers, members, acked, final,
                  committed):
        def during(at, gap):
            return [what for what, begin, _, end in faults
                    if begin <= at + gap and at <= end] or "no fault"

        print("\nnemesis summary (seed %d):" % seed)
        print("  faults applied: %d" % len(faults))
        for what, begin, healed, recovered in faults:
            print("    +%5.1fs %s; healthy %.1f s after the heal" % (
                begin - self.t0, what, recovered - healed))
        print("  acked: %d (%s); stored: %d; unflushed at stop: %s" % (
            len(acked), ", ".join(str(len(p.acked)) for p in producers),
            sum(len(r) for r in final.values()),
            [p.unflushed for p in producers]))
        print("  delivery errors: %s; client errors: %s" % (
            [e for p in producers for e in p.delivery_errors][:10],
            dict(sum((p.client_errors for p in producers),
                     collections.Counter()))))
        print("  group: %d deliveries, %d commits, commit errors %s, "
              "committed %s" % (
                  sum(len(m.seen) for m in members),
                  sum(m.commits for m in members),
                  dict(sum((m.commit_errors for m in members),
                           collections.Counter())), committed))
        gap, at = longest_gap([a.time for a in acked], *load)
        print("  max unavailability, longest gap between any two acks: "
              "%.2f s at +%.1fs (%s)" % (gap, at - self.t0, during(at, gap)))
        gap, at, partition = worst_partition_gap(acked, *load)
        print("  max unavailability of one partition: %.2f s, partition %d "
              "at +%.1fs (%s)" % (gap, partition, at - self.t0,
                                  during(at, gap)))

if __name__ == "__main__":
    harness.main()
