"""Failover benchmark (a program, not a test): how long acknowledged writes
stop when the leader of a partition is killed with kill -9.

Starts 3 real chronik-server processes (replication factor 3, min ISR 2),
runs the rolling-restart suite's acks=all idempotent producer over 6
partitions, then KILLS times: picks the broker leading partition
(kill % 6), kill -9s it, and for every partition that broker led measures
the time from the kill to that partition's next acknowledgement; restarts
the broker on its data directory, waits for /ready and lets it catch up.
Prints each kill and the median and maximum over all (kill, partition)
pairs, then checks nothing acknowledged was lost.

Run: bazel run -c opt //tests/e2e:failover_bench [-- --kills=N]
"""

import argparse
import statistics
import sys
import time

from confluent_kafka.admin import AdminClient, NewTopic

from harness import start_cluster, wait_until
from rolling_restart_test import PARTITIONS, Load, RollingRestartTest

TOPIC = "failover"


class _Named:
    """start_cluster names its cluster file after a test id."""

    def id(self):
        return "failover_bench"


def leaders(bootstrap):
    """{partition: leader broker id} from a fresh Metadata request."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    topic = admin.list_topics(TOPIC, timeout=10).topics[TOPIC]
    return {p: m.leader for p, m in topic.partitions.items()}


def next_ack_after(acked, partition, t):
    times = [at for p, _, _, at in acked if p == partition and at > t]
    return min(times) if times else None


def kill_once(brokers, load, partition):
    """Kills the leader of `partition`; returns {partition: seconds to its
    next acknowledgement} for every partition the killed broker led."""
    bootstrap = ",".join(b.bootstrap for b in brokers.values())
    led = leaders(bootstrap)
    victim = led[partition]
    victim_partitions = [p for p, leader in led.items() if leader == victim]
    killed_at = time.monotonic()
    brokers[victim].kill9()
    wait_until(lambda: all(next_ack_after(load.acked, p, killed_at)
                           for p in victim_partitions),
               timeout_s=60, what="writes acknowledged after the kill")
    gaps = {p: next_ack_after(load.acked, p, killed_at) - killed_at
            for p in victim_partitions}
    brokers[victim].start(wait_ready=True, timeout_s=30)
    time.sleep(2)  # the restarted broker catches up under load
    return victim, gaps


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kills", type=int, default=10)
    args = parser.parse_args()
    brokers = start_cluster(_Named(), (1, 2, 3))
    try:
        bootstrap = ",".join(b.bootstrap for b in brokers.values())
        admin = AdminClient({"bootstrap.servers": bootstrap})
        admin.create_topics(
            [NewTopic(TOPIC, num_partitions=PARTITIONS,
                      replication_factor=3)])[TOPIC].result(timeout=20)
        all_gaps = []
        with Load(bootstrap, TOPIC) as load:
            wait_until(lambda: len(load.acked) > 500, timeout_s=30,
                       what="produce load flowing")
            for kill in range(args.kills):
                victim, gaps = kill_once(brokers, load, kill % PARTITIONS)
                all_gaps.extend(gaps.values())
                print("kill %d: broker %d led %s; ms to the next ack: %s" % (
                    kill + 1, victim, sorted(gaps),
                    ", ".join("p%d=%.0f" % (p, g * 1000)
                              for p, g in sorted(gaps.items()))))
        if load.errors:
            print("delivery errors: %s" % load.errors[:5])
            return 1
        checker = RollingRestartTest()
        checker.brokers = brokers
        stored = checker.read_back(TOPIC)
        lost = [(p, o) for p, o, v, _ in load.acked if stored.get((p, o)) != v]
        print("failover after kill -9 of a leader, %d kills, %d partition "
              "failovers: median %.0f ms, max %.0f ms to the next "
              "acknowledged write; %d acknowledged, %d lost" % (
                  args.kills, len(all_gaps),
                  statistics.median(all_gaps) * 1000, max(all_gaps) * 1000,
                  len(load.acked), len(lost)))
        return 1 if lost else 0
    finally:
        for broker in brokers.values():
            if broker.alive():
                broker.kill9()


if __name__ == "__main__":
    sys.exit(main())
