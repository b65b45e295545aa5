"""Operating a 3-process cluster: a rolling restart with controlled shutdown,
and the operator's view (GET /v1/cluster, /metrics, role-change log lines).

Rolling restart: while confluent-kafka produces with acks=all, each node in
turn gets SIGTERM (it hands the leadership of every Raft group it leads to a
caught-up follower, then exits 0 within 10 s), is restarted on its data
directory and waited for on /ready. Asserted: exit status and exit time, and
that every acknowledged record is read back at its acknowledged offset.
Measured and printed, never asserted: per-partition stall (the longest time
between two consecutive acknowledgements of a partition while the restart
ran), and the same figure for a quiet stretch before it.
"""

import json
import signal
import statistics
import subprocess
import threading
import time

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

import harness
from harness import start_cluster, wait_until

PARTITIONS = 6
EXIT_BOUND_S = 10


class Load:
    """An acks=all idempotent producer in a thread, keeping every
    acknowledgement: (partition, offset, value, monotonic time)."""

    def __init__(self, bootstrap, topic):
        self.topic = topic
        self.acked = []
        self.errors = []
        self.stop = threading.Event()
        self.producer = Producer({"bootstrap.servers": bootstrap,
                                  "acks": "all", "enable.idempotence": True,
                                  "linger.ms": 5,
                                  "message.timeout.ms": 60000})
        self.thread = threading.Thread(target=self.run, daemon=True)

    def on_delivery(self, err, msg):
        if err is not None:
            self.errors.append(str(err))
            return
        self.acked.append((msg.partition(), msg.offset(), msg.value(),
                           time.monotonic()))

    def run(self):
        i = 0
        while not self.stop.is_set():
            try:
                self.producer.produce(self.topic, partition=i % PARTITIONS,
                                      value=b"r%08d" % i,
                                      on_delivery=self.on_delivery)
                i += 1
            except BufferError:
                pass
            self.producer.poll(0)
            time.sleep(0.001)
        self.producer.flush(60)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=90)


def stalls(acked, start, end):
    """Per partition: the longest gap (s) between consecutive acks whose
    times fall in [start, end] (bounded by start and end themselves)."""
    result = {}
    for partition in range(PARTITIONS):
        times = sorted(t for p, _, _, t in acked
                       if p == partition and start <= t <= end)
        points = [start] + times + [end]
        result[partition] = max(b - a for a, b in zip(points, points[1:]))
    return result


def describe(name, per_partition):
    values = sorted(per_partition.values())
    return ("%s: per-partition max gap between acks, median %.0f ms, max "
            "%.0f ms (%s)" % (name, statistics.median(values) * 1000,
                              values[-1] * 1000,
                              ", ".join("p%d=%.0f" % (p, g * 1000)
                                        for p, g in sorted(
                                            per_partition.items()))))


class RollingRestartTest(harness.unittest.TestCase):

    def tearDown(self):
        for broker in getattr(self, "brokers", {}).values():
            if broker.alive():
                broker.kill9()

    def bootstrap(self):
        return ",".join(b.bootstrap for _, b in sorted(self.brokers.items()))

    def create_topic(self, name):
        admin = AdminClient({"bootstrap.servers": self.bootstrap()})
        admin.create_topics([NewTopic(name, num_partitions=PARTITIONS,
                                      replication_factor=3)])[name].result(
                                          timeout=20)

    def sigterm(self, node):
        """SIGTERM; returns (exit status, seconds to exit)."""
        broker = self.brokers[node]
        started = time.monotonic()
        broker.proc.send_signal(signal.SIGTERM)
        try:
            code = broker.proc.wait(timeout=EXIT_BOUND_S + 5)
        except subprocess.TimeoutExpired:
            broker.kill9()
            self.fail("node %d still running %ss after SIGTERM:\n%s" %
                      (node, EXIT_BOUND_S + 5, broker.log()[-5000:]))
        return code, time.monotonic() - started

    def read_back(self, topic):
        """{(partition, offset): value} of everything in the topic."""
        consumer = Consumer({"bootstrap.servers": self.bootstrap(),
                             "group.id": "verify", "enable.auto.commit": False})
        ends = {p: consumer.get_watermark_offsets(
            TopicPartition(topic, p), timeout=10)[1]
            for p in range(PARTITIONS)}
        consumer.assign([TopicPartition(topic, p, 0)
                         for p in range(PARTITIONS)])
        stored = {}
        next_offset = {p: 0 for p in range(PARTITIONS)}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(
                next_offset[p] < ends[p] for p in range(PARTITIONS)):
            message = consumer.poll(0.2)
            if message is not None and message.error() is None:
                stored[(message.partition(), message.offset())] = \
                    message.value()
                next_offset[message.partition()] = message.offset() + 1
        consumer.close()
        return stored

    def test_rolling_restart_under_acks_all_loses_nothing(self):
        self.brokers = start_cluster(self, (1, 2, 3))
        self.create_topic("roll")
        with Load(self.bootstrap(), "roll") as load:
            wait_until(lambda: len(load.acked) > 500, timeout_s=30,
                       what="produce load flowing")
            quiet_start = time.monotonic()
            time.sleep(2)
            quiet_end = restart_start = time.monotonic()
            for node in (1, 2, 3):
                code, seconds = self.sigterm(node)
                log = self.brokers[node].log()
                print("node %d: exit status %d after %.2f s; %s" % (
                    node, code, seconds,
                    [line for line in log.splitlines()
                     if "controlled shutdown:" in line]))
                self.assertEqual(code, 0, log[-5000:])
                self.assertLess(seconds, EXIT_BOUND_S, log[-5000:])
                self.assertIn("controlled shutdown: leads no Raft group", log)
                self.brokers[node].start(wait_ready=True, timeout_s=30)
                time.sleep(1)  # the restarted node catches up under load
            restart_end = time.monotonic()
        self.assertEqual(load.errors, [])
        acked = load.acked
        print("acknowledged %d records; restart took %.1f s" % (
            len(acked), restart_end - restart_start))
        print(describe("before the restart (%.1f s)" %
                       (quiet_end - quiet_start),
                       stalls(acked, quiet_start, quiet_end)))
        print(describe("during the rolling restart",
                       stalls(acked, restart_start, restart_end)))

        stored = self.read_back("roll")
        lost = [(p, o, v) for p, o, v, _ in acked if stored.get((p, o)) != v]
        self.assertEqual(lost[:10], [], "%d of %d acknowledged records lost "
                         "or changed" % (len(lost), len(acked)))
        values = list(stored.values())
        print("stored %d records, %d duplicates" % (
            len(values), len(values) - len(set(values))))

    def test_cluster_status_endpoint_metrics_and_role_log_lines(self):
        self.brokers = start_cluster(self, (1, 2, 3))
        self.create_topic("status.topic-1")

        def statuses():
            found = {}
            for node, broker in self.brokers.items():
                code, body = broker.http_get("/v1/cluster")
                self.assertEqual(code, 200, body)
                found[node] = json.loads(body)
            partitions = [p for s in found.values() for p in s["partitions"]]
            if len(partitions) != 3 * PARTITIONS or min(
                    p["leader"] for p in partitions) < 1:
                return None
            return found

        found = wait_until(statuses, timeout_s=20, what="leaders in status")
        controllers = {s["metadata"]["leader"] for s in found.values()}
        self.assertEqual(len(controllers), 1, found)
        for node, status in found.items():
            self.assertEqual(status["node_id"], node)
            self.assertFalse(status["shutting_down"])
            self.assertEqual(
                [(b["id"], b["port"], b["status"]) for b in status["brokers"]],
                [(n, self.brokers[n].kafka_port, "live") for n in (1, 2, 3)])
            self.assertEqual(status["metadata"]["voters"], [1, 2, 3])
            self.assertIn(status["metadata"]["leader"], (1, 2, 3))
            self.assertGreater(status["metadata"]["term"], 0)
            for p in status["partitions"]:
                self.assertEqual(p["topic"], "status.topic-1")
                self.assertEqual(sorted(p["replicas"]), [1, 2, 3])
                self.assertTrue(set(p["isr"]) <= {1, 2, 3}, p)
                # Only the leader knows each replica's lag.
                if p["leader"] == node:
                    self.assertEqual(sorted(p["lag"]), ["1", "2", "3"], p)
                else:
                    self.assertIsNone(p["lag"], p)

        led = {n: b.metric("chronik_raft_groups_led")
               for n, b in self.brokers.items()}
        print("groups led per node: %s" % led)
        self.assertEqual(sum(led.values()), PARTITIONS + 1, led)
        for broker in self.brokers.values():
            self.assertEqual(broker.metric("chronik_raft_groups"),
                             PARTITIONS + 1)
            self.assertGreater(broker.metric("chronik_raft_max_term"), 0)
            self.assertIsNotNone(
                broker.metric("chronik_raft_commit_lag_entries"))
            self.assertIn("raft metadata (group 0) term ", broker.log())
            self.assertIn("raft partition status.topic-1/", broker.log())


if __name__ == "__main__":
    harness.main()
