"""Preferred leaders on a 3-process cluster: ElectLeaders and automatic
leader balancing.

A restarted node's partitions are led by the others when it comes back
(its controlled shutdown handed them over). ElectLeaders (sent with
kafka_wire, our encoder: kafka-python 2.0.2, confluent-kafka 1.7 and kafkajs
2.2.4 expose no ElectLeaders) moves them back to their preferred replicas,
answering NONE for those it moved, ELECTION_NOT_NEEDED for the others and
UNKNOWN_TOPIC_OR_PARTITION for a partition that does not exist; with a short
--leader-imbalance-check-interval-ms the balancer does it alone.
"""

import json
import time

from confluent_kafka.admin import AdminClient, NewTopic

import harness
import kafka_wire
from harness import start_cluster, wait_until

TOPIC = "balanced"
PARTITIONS = 6
NONE = 0
UNKNOWN_TOPIC_OR_PARTITION = 3
ELECTION_NOT_NEEDED = 84


class LeaderBalanceTest(harness.unittest.TestCase):

    def tearDown(self):
        for broker in getattr(self, "brokers", {}).values():
            if broker.alive():
                broker.kill9()

    def bootstrap(self):
        return ",".join(b.bootstrap for _, b in sorted(self.brokers.items()))

    def create_topic(self):
        admin = AdminClient({"bootstrap.servers": self.bootstrap()})
        admin.create_topics([NewTopic(TOPIC, num_partitions=PARTITIONS,
                                      replication_factor=3)])[TOPIC].result(
                                          timeout=20)

    def partitions(self, node):
        """{partition: (leader, preferred, isr)} as `node` sees them."""
        status, body = self.brokers[node].http_get("/v1/cluster")
        if status != 200:
            return {}
        return {p["partition"]: (p["leader"], p["replicas"][0], p["isr"])
                for p in json.loads(body)["partitions"]
                if p["topic"] == TOPIC}

    def off_preferred(self, node):
        """Partitions `node` sees led by another replica than the preferred
        one; None while some partition has no leader (or none is known)."""
        seen = self.partitions(node)
        if len(seen) != PARTITIONS or any(l < 0 for l, _, _ in seen.values()):
            return None
        return sorted(p for p, (leader, preferred, _) in seen.items()
                      if leader != preferred)

    def all_preferred(self):
        return all(self.off_preferred(n) == [] for n in self.brokers)

    def controller(self):
        _, body = self.brokers[1].http_get("/v1/cluster")
        return json.loads(body)["metadata"]["leader"]

    def restart(self, node):
        """SIGTERM (controlled shutdown: its leadership moves) and restart;
        waits until every replica is back in every ISR."""
        self.assertEqual(self.brokers[node].stop(), 0)
        self.brokers[node].start(timeout_s=30)
        other = 1 if node != 1 else 2
        wait_until(lambda: all(
            sorted(isr) == [1, 2, 3]
            for _, _, isr in self.partitions(other).values()), timeout_s=30,
            what="node %d back in every ISR" % node)

    def test_elect_leaders_moves_leadership_back_to_preferred(self):
        self.brokers = start_cluster(
            self, (1, 2, 3), args=["--auto-leader-rebalance-enable=false"])
        self.create_topic()
        wait_until(lambda: self.off_preferred(1) is not None, timeout_s=20,
                   what="every partition led")
        # The first elections need not go to the preferred replicas.
        conn = kafka_wire.Connection(self.brokers[1].kafka_port, timeout_s=30)
        error, _ = conn.elect_leaders(1, None)
        self.assertEqual(error, NONE)
        wait_until(self.all_preferred, timeout_s=20, what="preferred leaders")
        conn.close()

        restarted = 1
        self.restart(restarted)
        moved = self.off_preferred(2)
        self.assertTrue(moved, "the restart moved no leadership")
        self.assertTrue(all(self.partitions(2)[p][1] == restarted
                            for p in moved), moved)
        # Any broker takes the request (Kafka sends it to the controller).
        at = 3 if self.controller() != 3 else 2
        conn = kafka_wire.Connection(self.brokers[at].kafka_port, timeout_s=30)
        error, results = conn.elect_leaders(
            2, {TOPIC: list(range(PARTITIONS)) + [PARTITIONS]},
            timeout_ms=15000)
        self.assertEqual(error, NONE)
        for p in range(PARTITIONS):
            want = NONE if p in moved else ELECTION_NOT_NEEDED
            self.assertEqual(results[(TOPIC, p)][0], want, (p, results))
        self.assertEqual(results[(TOPIC, PARTITIONS)][0],
                         UNKNOWN_TOPIC_OR_PARTITION)
        self.assertIsNone(results[(TOPIC, moved[0])][1])
        wait_until(self.all_preferred, timeout_s=10,
                   what="every node names the preferred leaders")
        # Balanced: a null list answers nothing (no election needed), and an
        # unclean election is not needed where a leader is alive.
        error, results = conn.elect_leaders(0, None)
        self.assertEqual((error, results), (NONE, {}))
        error, results = conn.elect_leaders(
            1, {TOPIC: [0]}, election_type=kafka_wire.ELECTION_UNCLEAN)
        self.assertEqual(results[(TOPIC, 0)][0], ELECTION_NOT_NEEDED)
        conn.close()

    def test_balancer_moves_leadership_back_alone(self):
        interval_ms = 3000
        self.brokers = start_cluster(
            self, (1, 2, 3),
            args=["--leader-imbalance-check-interval-ms=%d" % interval_ms])
        self.create_topic()
        wait_until(self.all_preferred, timeout_s=30,
                   what="preferred leaders after creation")
        restarted = 2
        self.restart(restarted)
        observed_off = self.off_preferred(1)
        print("after the restart, partitions off their preferred replica: %s"
              % observed_off)
        wait_until(self.all_preferred, timeout_s=4 * interval_ms / 1000 + 10,
                   what="the balancer moving leadership back")
        asked = self.brokers[restarted].metric(
            "chronik_leader_balance_requests_total")
        self.assertGreaterEqual(asked, 1, "the balancer never asked")
        # Balanced: nothing more is asked for over a few intervals.
        before = [self.brokers[n].metric(
            "chronik_preferred_leader_transfers_total") for n in (1, 2, 3)]
        time.sleep(2.5 * interval_ms / 1000)
        after = [self.brokers[n].metric(
            "chronik_preferred_leader_transfers_total") for n in (1, 2, 3)]
        self.assertEqual(before, after, "leadership moved while balanced")
        self.assertTrue(self.all_preferred())


if __name__ == "__main__":
    harness.main()
