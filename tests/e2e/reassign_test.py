"""Moving a partition between brokers of a running 3-process cluster.

A topic on brokers 1 and 2 takes acknowledged writes; kafkajs's
alterPartitionReassignments moves it to 3 and 2 (js/reassign.js, which
also checks listPartitionReassignments and the error cases); broker 1 then
holds no replica, and after it is killed every acknowledged record is still
read back once, in order, and new writes succeed.
"""

import json
import os
import shutil
import subprocess

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

import harness
from harness import start_cluster, wait_until

JS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "js")


class ReassignTest(harness.unittest.TestCase):

    def tearDown(self):
        for broker in getattr(self, "brokers", {}).values():
            if broker.alive():
                broker.kill9()

    def bootstrap(self, nodes):
        return ",".join(self.brokers[n].bootstrap for n in nodes)

    def produce(self, nodes, first, count):
        producer = Producer({"bootstrap.servers": self.bootstrap(nodes),
                             "acks": "all", "enable.idempotence": True})
        acked = []

        def delivered(err, msg):
            if err is None:
                acked.append((msg.offset(), msg.value().decode()))

        for i in range(first, first + count):
            producer.produce("moved", value=b"m%d" % i, partition=0,
                             on_delivery=delivered)
        self.assertEqual(producer.flush(30), 0)
        self.assertEqual(len(acked), count)
        return acked

    def read_all(self, nodes, count):
        consumer = Consumer({"bootstrap.servers": self.bootstrap(nodes),
                             "group.id": "reader", "enable.auto.commit": False})
        consumer.assign([TopicPartition("moved", 0, 0)])
        got = []
        wait_until(lambda: got.extend(
            (m.offset(), m.value().decode())
            for m in consumer.consume(100, 0.5) if m.error() is None)
            or len(got) >= count, timeout_s=30, what="%d records" % count)
        consumer.close()
        return got

    def test_move_partition_with_kafkajs(self):
        node = shutil.which("node")
        if node is None or not os.path.isdir(
                os.path.join(JS_DIR, "node_modules", "kafkajs")):
            self.fail("node or tests/e2e/js/node_modules/kafkajs missing: "
                      "run tools/setup")
        self.brokers = start_cluster(self, (1, 2, 3))
        admin = AdminClient({"bootstrap.servers": self.bootstrap((1, 2, 3))})
        admin.create_topics([NewTopic("moved", num_partitions=1,
                                      replica_assignment=[[1, 2]])])[
            "moved"].result(timeout=20)
        acked = self.produce((1, 2, 3), 0, 200)

        proc = subprocess.run(
            [node, os.path.join(JS_DIR, "reassign.js"),
             self.bootstrap((1, 2, 3)), "moved", "3,2"],
            capture_output=True, text=True, timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        seen = json.loads(proc.stdout.strip().splitlines()[-1])
        print("kafkajs saw:", seen)
        ongoing = seen["ongoing"]
        if ongoing:  # it may finish before the first list
            partition = ongoing[0]["partitions"][0]
            self.assertEqual(partition["addingReplicas"], [3])
            self.assertEqual(partition["removingReplicas"], [1])

        wait_until(lambda: self.brokers[1].metric("chronik_partitions") == 0,
                   timeout_s=20, what="broker 1 drops its replica")
        self.assertEqual(self.brokers[3].metric("chronik_partitions"), 1)
        self.brokers[1].kill9()
        acked += self.produce((2, 3), 200, 100)
        got = self.read_all((2, 3), len(acked))
        self.assertEqual(got, sorted(acked), "every acknowledged record, once, "
                         "in order, at its acknowledged offset")


if __name__ == "__main__":
    harness.main()
