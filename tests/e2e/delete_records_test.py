"""DeleteRecords against chronik-server: kafkajs 2.2.4's
admin.deleteTopicRecords moves the log start (js/delete_records.js: the low
watermark, consumers from the beginning and a group committed below it start
at the new log start), Kafka's answers a client library hides (the low
watermark, OFFSET_OUT_OF_RANGE for a fetch below the log start and for a
delete beyond the high watermark, UNKNOWN_TOPIC_OR_PARTITION) through
kafka_wire.py, and the log start survives a clean restart and a kill -9."""

import os
import shutil
import signal
import subprocess
import unittest

import harness
import kafka_wire as wire

JS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "js")

OFFSET_OUT_OF_RANGE = 1
UNKNOWN_TOPIC_OR_PARTITION = 3


class DeleteRecordsTest(harness.BrokerTestCase):

    def kafkajs(self, phase, topic):
        node = shutil.which("node")
        modules = os.path.join(JS_DIR, "node_modules", "kafkajs")
        if node is None or not os.path.isdir(modules):
            self.fail("node or tests/e2e/js/node_modules/kafkajs missing: "
                      "run tools/setup (it runs npm ci there)")
        proc = subprocess.run(
            [node, os.path.join(JS_DIR, "delete_records.js"),
             self.broker.bootstrap, phase, topic],
            capture_output=True, text=True, timeout=120)
        print(proc.stdout)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)

    def call(self, api_key, version, body):
        conn = wire.Connection(self.broker.kafka_port)
        try:
            return conn.call(api_key, version, body)
        finally:
            conn.close()

    def earliest(self, topic):
        return wire.parse_list_offsets_v1(
            self.call(wire.API_LIST_OFFSETS, 1,
                      wire.list_offsets_v1_body(topic, 0, -2)))

    def fetch_error(self, topic, offset):
        return wire.parse_fetch_v0(
            self.call(wire.API_FETCH, 0,
                      wire.fetch_v0_body(topic, 0, offset)))[0]

    def check_log_start(self, topic):
        # (Right after a restart the partition may not have its leader yet.)
        harness.wait_until(lambda: self.earliest(topic) == (0, 12),
                           what="ListOffsets earliest of %s at 12" % topic)
        self.assertEqual(self.fetch_error(topic, 11), OFFSET_OUT_OF_RANGE)
        self.assertEqual(self.fetch_error(topic, 0), OFFSET_OUT_OF_RANGE)
        self.assertEqual(self.fetch_error(topic, 12), 0)

    def test_delete_records_moves_the_log_start_and_survives_restarts(self):
        topic = self.topic("purged")
        self.kafkajs("before", topic)
        self.check_log_start(topic)
        answers = wire.parse_delete_records_v0(
            self.call(wire.API_DELETE_RECORDS, 0,
                      wire.delete_records_v0_body(
                          topic, [(0, 31), (0, 7), (0, 14), (3, 1)])))
        self.assertEqual(answers, [
            (0, -1, OFFSET_OUT_OF_RANGE),  # beyond the high watermark (30)
            (0, 12, 0),                    # below the log start: no-op
            (0, 14, 0),
            (3, -1, UNKNOWN_TOPIC_OR_PARTITION),
        ])
        # Back to 12 for the phase after the restarts: delete a copy instead.
        other = self.topic("purged-again")
        self.kafkajs("before", other)

        self.assertEqual(self.broker.restart(signal.SIGTERM), 0)
        self.check_log_start(other)
        self.assertEqual(self.earliest(topic), (0, 14))
        self.broker.kill9()
        self.broker.start()
        self.check_log_start(other)
        self.assertEqual(self.earliest(topic), (0, 14))
        self.kafkajs("after", other)


if __name__ == "__main__":
    harness.main()
