#!/usr/bin/env python3
"""Idle cost of many partitions: starts 3 chronik-server nodes (the e2e
harness's cluster), creates a topic of N partitions with replication factor 3
(kafka-python admin), waits until the cluster is idle, then prints each node's
CPU share of one core over a window (utime+stime from /proc/PID/stat), its RSS
and its chronik_raft_groups_quiesced metric. With --time-leaders it also
prints the time from create_topics until every partition has a leader (as
the metadata of one broker shows it) and each node's RSS then.

  CHRONIK_SERVER=bazel-bin/broker/chronik-server \
      python3 tools/bench/idle_partitions.py --partitions=1000 [--window=30] \
      [--time-leaders] [-- --raft-quiesce=false]
"""
import argparse
import os
import sys
import time
import types

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                "tests", "e2e"))
import harness  # noqa: E402
from kafka.admin import KafkaAdminClient, NewTopic  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0


def wait_for_leaders(admin, partitions, since, timeout):
    """Seconds from `since` until every partition of "idle" has a leader."""
    deadline = since + timeout
    while True:
        led = 0
        try:
            for topic in admin.describe_topics(["idle"]):
                led = sum(1 for p in topic.get("partitions", [])
                          if p.get("leader", -1) >= 0)
        except Exception:  # noqa: BLE001 (not created everywhere yet)
            led = 0
        if led >= partitions:
            return time.time() - since
        if time.time() > deadline:
            raise RuntimeError("only %d of %d partitions have a leader after "
                               "%.0f s" % (led, partitions, timeout))
        time.sleep(0.5)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--partitions", type=int, default=1000)
    parser.add_argument("--window", type=float, default=30)
    parser.add_argument("--settle", type=float, default=20)
    parser.add_argument("--time-leaders", action="store_true")
    parser.add_argument("--leaders-timeout", type=float, default=600)
    parser.add_argument("server_args", nargs="*")
    args = parser.parse_args()
    test = types.SimpleNamespace(id=lambda: "idle_partitions")
    brokers = harness.start_cluster(test, [0, 1, 2], args.server_args)
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=[b.bootstrap for b in brokers.values()],
            request_timeout_ms=120000)
        created = time.time()
        admin.create_topics([NewTopic("idle", args.partitions, 3)],
                            timeout_ms=120000)
        if args.time_leaders:
            elapsed = wait_for_leaders(admin, args.partitions, created,
                                       args.leaders_timeout)
            print("all %d leaders elected %.1f s after create_topics" %
                  (args.partitions, elapsed))
            for n, b in sorted(brokers.items()):
                print("node %d: rss %.0f MiB" % (n, rss_mib(b.proc.pid)))
        admin.close()
        time.sleep(args.settle)
        before = {n: cpu_seconds(b.proc.pid) for n, b in brokers.items()}
        start = time.time()
        time.sleep(args.window)
        elapsed = time.time() - start
        for n, b in sorted(brokers.items()):
            used = cpu_seconds(b.proc.pid) - before[n]
            print("node %d: cpu %.1f%% of a core over %.0f s, rss %.0f MiB, "
                  "groups %s, quiesced %s" %
                  (n, 100 * used / elapsed, elapsed, rss_mib(b.proc.pid),
                   b.metric("chronik_raft_groups"),
                   b.metric("chronik_raft_groups_quiesced")))
    finally:
        for b in brokers.values():
            b.stop()


if __name__ == "__main__":
    main()
