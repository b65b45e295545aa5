"""kcat (librdkafka 2.0.2) against chronik-server: metadata (-L), produce
with each codec and acks setting, consume from beginning/end/offset/time,
and a balanced consumer group."""

import json
import subprocess
import time

import harness


class KcatTest(harness.BrokerTestCase):

    def kcat(self, args, stdin=None, timeout_s=20):
        proc = subprocess.run(
            ["kcat", "-b", self.broker.bootstrap, "-X",
             "topic.metadata.refresh.interval.ms=200", "-X",
             "retry.backoff.ms=50"] + args,
            input=stdin, capture_output=True, text=True, timeout=timeout_s)
        return proc

    def produce(self, topic, lines, extra=()):
        proc = self.kcat(["-P", "-t", topic, "-p", "0"] + list(extra),
                         stdin="".join(l + "\n" for l in lines))
        self.assertEqual(proc.returncode, 0, proc.stderr)

    def consume(self, topic, offset="beginning", count=None, extra=()):
        args = ["-C", "-t", topic, "-p", "0", "-o", str(offset), "-e", "-q",
                "-f", "%o:%s\\n"] + list(extra)
        if count is not None:
            args += ["-c", str(count)]
        proc = self.kcat(args)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return [tuple(line.split(":", 1)) for line in proc.stdout.splitlines()]

    def test_metadata_lists_broker_and_topic(self):
        topic = self.topic("meta")
        self.produce(topic, ["x"])
        proc = self.kcat(["-L", "-J", "-t", topic])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        metadata = json.loads(proc.stdout)
        self.assertEqual(len(metadata["brokers"]), 1)
        self.assertEqual(metadata["brokers"][0]["name"],
                         "127.0.0.1:%d" % self.broker.kafka_port)
        self.assertEqual(metadata["brokers"][0]["id"], 1)
        topics = {t["topic"]: t for t in metadata["topics"]}
        self.assertIn(topic, topics)
        self.assertNotIn("error", topics[topic])
        self.assertEqual(len(topics[topic]["partitions"]), 1)
        self.assertEqual(topics[topic]["partitions"][0]["leader"], 1)

    def test_produce_and_consume_each_codec(self):
        for codec in ("none", "gzip", "snappy", "lz4", "zstd"):
            topic = self.topic("codec-" + codec)
            lines = ["%s-%d-%s" % (codec, i, "v" * (i % 50)) for i in range(200)]
            self.produce(topic, lines, ["-z", codec, "-X", "linger.ms=20"])
            got = self.consume(topic)
            self.assertEqual([v for _, v in got], lines, codec)
            self.assertEqual([int(o) for o, _ in got], list(range(200)), codec)

    def test_acks_settings(self):
        for acks in ("0", "1", "all"):
            topic = self.topic("acks" + acks)
            if acks == "0":
                # acks=0 gets no response: create the topic first so the
                # fire-and-forget messages are not lost to auto-creation.
                self.produce(topic, ["warmup"])
            self.produce(topic, ["m%d" % i for i in range(50)],
                         ["-X", "acks=" + acks])
            got = [v for _, v in self.consume(topic)]
            expected = ["m%d" % i for i in range(50)]
            if acks == "0":
                self.assertEqual(got, ["warmup"] + expected)
            else:
                self.assertEqual(got, expected)

    def test_consume_from_offset_end_and_relative(self):
        topic = self.topic("offsets")
        self.produce(topic, ["v%d" % i for i in range(10)])
        self.assertEqual(self.consume(topic, offset=7),
                         [("7", "v7"), ("8", "v8"), ("9", "v9")])
        self.assertEqual(self.consume(topic, offset=-2),
                         [("8", "v8"), ("9", "v9")])
        self.assertEqual(self.consume(topic, offset="end"), [])

    def test_consume_from_timestamp(self):
        topic = self.topic("bytime")
        self.produce(topic, ["early%d" % i for i in range(3)])
        time.sleep(0.05)
        middle_ms = int(time.time() * 1000)
        time.sleep(0.05)
        self.produce(topic, ["late%d" % i for i in range(3)])
        got = self.consume(topic, offset="s@%d" % middle_ms)
        self.assertEqual(got, [("3", "late0"), ("4", "late1"), ("5", "late2")])

    def test_keys_and_headers_round_trip(self):
        topic = self.topic("keys")
        proc = self.kcat(["-P", "-t", topic, "-p", "0", "-K", ":", "-H",
                          "h1=v1"], stdin="k1:a\nk2:b\n")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        proc = self.kcat(["-C", "-t", topic, "-o", "beginning", "-e", "-q",
                          "-f", "%k=%s %h\\n"])
        self.assertEqual(proc.stdout.splitlines(), ["k1=a h1=v1", "k2=b h1=v1"])

    def test_metrics_count_the_traffic(self):
        topic = self.topic("metrics")
        self.produce(topic, ["m%d" % i for i in range(20)])
        self.assertEqual(len(self.consume(topic)), 20)
        metric = self.broker.metric
        self.assertGreaterEqual(metric('chronik_requests_total{api="Produce"}'),
                                1)
        self.assertGreaterEqual(metric('chronik_requests_total{api="Fetch"}'),
                                1)
        self.assertGreaterEqual(metric(
            'chronik_request_latency_ms_count{api="Produce"}'), 1)
        self.assertGreater(metric("chronik_bytes_in_total"), 20 * 2)
        self.assertGreater(metric("chronik_bytes_out_total"), 20 * 2)
        self.assertGreaterEqual(metric("chronik_partitions"), 1)
        self.assertGreater(metric("chronik_log_bytes"), 0)

    def test_balanced_consumer_group_reads_everything(self):
        topic = self.topic("group")
        self.produce(topic, ["g%d" % i for i in range(20)])
        group = "kcat-" + topic
        proc = subprocess.Popen(
            ["kcat", "-b", self.broker.bootstrap, "-G", group, "-o",
             "beginning", "-q", "-f", "%s\\n", "-c", "20", topic],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            self.fail("group consumer timed out; got %r\n%s" % (out, err))
        self.assertEqual(out.splitlines(), ["g%d" % i for i in range(20)], err)


if __name__ == "__main__":
    harness.main()
