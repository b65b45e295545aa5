"""kafkajs 2.2.4 against chronik-server: runs js/kafkajs_test.js (admin,
produce with acks and gzip, consume, offsets by time, group offsets, a group
of two) with node, against a broker started here."""

import os
import shutil
import subprocess
import unittest

import harness

JS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "js")


class KafkajsTest(harness.BrokerTestCase):

    def test_kafkajs_suite(self):
        node = shutil.which("node")
        modules = os.path.join(JS_DIR, "node_modules", "kafkajs")
        if node is None or not os.path.isdir(modules):
            self.fail("node or tests/e2e/js/node_modules/kafkajs missing: "
                      "run tools/setup (it runs npm ci there)")
        proc = subprocess.run([node, os.path.join(JS_DIR, "kafkajs_test.js"),
                               self.broker.bootstrap],
                              capture_output=True, text=True, timeout=240)
        print(proc.stdout)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)


if __name__ == "__main__":
    harness.main()
