"""Bad input closes (or is refused on) only the offending connection: garbage
bytes, truncated frames, oversized and negative size prefixes, unsupported
versions, a record batch with a bad CRC, an invalid topic name. After each,
a connection opened before the bad one still works, and so does a new one."""

import os
import struct
import time
import unittest

import harness
import kafka_wire as kw

UNSUPPORTED_VERSION = 35
CORRUPT_MESSAGE = 2
INVALID_TOPIC_EXCEPTION = 17


class BadInputTest(harness.BrokerTestCase):

    def setUp(self):
        super().setUp()
        # A healthy connection opened before the bad input.
        self.bystander = kw.Connection(self.broker.kafka_port)
        error, versions = self.bystander.api_versions_v0()
        self.assertEqual(error, 0)
        self.assertIn(kw.API_PRODUCE, versions)

    def tearDown(self):
        # The bystander and a new connection are both still served.
        error, _ = self.bystander.api_versions_v0()
        self.assertEqual(error, 0)
        self.bystander.close()
        fresh = kw.Connection(self.broker.kafka_port)
        self.assertEqual(fresh.api_versions_v0()[0], 0)
        fresh.close()
        super().tearDown()

    def bad(self):
        return kw.Connection(self.broker.kafka_port)

    def test_garbage_bytes_close_the_connection(self):
        conn = self.bad()
        # A plausible size, then bytes that are no request (unknown API key).
        garbage = os.urandom(60)
        conn.send_raw(struct.pack(">i", 64) + struct.pack(">h", 4242) +
                      b"\x00\x00" + garbage)
        self.assertTrue(conn.closed_by_peer(), "garbage left open")
        conn.close()

    def test_http_request_on_the_kafka_port_is_refused(self):
        conn = self.bad()
        # "GET " read as a size prefix is ~1.2 GB: over max request bytes.
        conn.send_raw(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertTrue(conn.closed_by_peer(), "HTTP on the kafka port")
        conn.close()

    def test_oversized_size_prefix_closes_the_connection(self):
        conn = self.bad()
        conn.send_raw(struct.pack(">i", 0x7FFFFFFF) + b"\x00\x12\x00\x00")
        self.assertTrue(conn.closed_by_peer())
        conn.close()

    def test_negative_and_zero_size_prefix_close_the_connection(self):
        for prefix in (-1, 0, 3):
            conn = self.bad()
            conn.send_raw(struct.pack(">i", prefix) + b"\x00" * 8)
            self.assertTrue(conn.closed_by_peer(), "size prefix %d" % prefix)
            conn.close()

    def test_frame_shorter_than_its_header_closes_the_connection(self):
        conn = self.bad()
        # Size 6: api key and version, but no correlation id / client id.
        conn.send_raw(struct.pack(">ihh", 6, 18, 0) + b"\x00\x00")
        self.assertTrue(conn.closed_by_peer())
        conn.close()

    def test_truncated_body_closes_the_connection(self):
        conn = self.bad()
        # A Metadata v1 request whose topic array claims 5 topics, has none.
        conn.send(kw.API_METADATA, 1, struct.pack(">i", 5))
        self.assertTrue(conn.closed_by_peer())
        conn.close()

    def test_truncated_frame_then_disconnect(self):
        conn = self.bad()
        frame = kw.request(kw.API_VERSIONS, 0, 1, b"")
        conn.send_raw(struct.pack(">i", 1000) + frame[4:])  # promises more
        self.assertFalse(conn.closed_by_peer(timeout_s=0.3),
                         "a partial frame is not an error yet")
        conn.close()  # the client goes away mid-frame

    def test_unsupported_api_versions_version_gets_error_35_in_v0_body(self):
        conn = self.bad()
        body = conn.call(kw.API_VERSIONS, 99, b"")
        error, n = struct.unpack_from(">hi", body, 0)
        self.assertEqual(error, UNSUPPORTED_VERSION)
        keys = [struct.unpack_from(">h", body, 6 + 6 * i)[0] for i in range(n)]
        self.assertIn(kw.API_VERSIONS, keys)
        conn.close()

    def test_unsupported_metadata_version_closes_the_connection(self):
        conn = self.bad()
        conn.send(kw.API_METADATA, 999, kw.metadata_v1_body(None))
        self.assertTrue(conn.closed_by_peer())
        conn.close()

    def test_bad_crc_batch_is_rejected_and_not_appended(self):
        topic = self.topic("crc")
        conn = self.bad()
        harness.wait_until(
            lambda: self._produce(conn, topic, kw.record_batch([b"first"]))[2]
            == 0, what="first produce to " + topic)
        _, _, error, _ = self._produce(
            conn, topic, kw.record_batch([b"bad"], corrupt_crc=True))
        self.assertEqual(error, CORRUPT_MESSAGE)
        _, _, error, base = self._produce(conn, topic,
                                          kw.record_batch([b"second"]))
        self.assertEqual(error, 0)
        self.assertEqual(base, 1, "the corrupt batch took an offset")
        conn.close()

    def test_invalid_topic_name_is_refused_and_not_created(self):
        conn = self.bad()
        for name in ("bad topic!", "a" * 300, "..", ""):
            _, _, error, _ = self._produce(conn, name,
                                           kw.record_batch([b"x"]))
            self.assertEqual(error, INVALID_TOPIC_EXCEPTION, name)
        topics = kw.parse_metadata_v1_topics(
            conn.call(kw.API_METADATA, 1, kw.metadata_v1_body(None)))
        self.assertNotIn("bad topic!", topics)
        conn.close()

    def test_invalid_topic_name_in_metadata_gets_an_error(self):
        conn = self.bad()
        topics = kw.parse_metadata_v1_topics(
            conn.call(kw.API_METADATA, 1, kw.metadata_v1_body(["bad topic!"])))
        self.assertEqual(topics["bad topic!"][0], INVALID_TOPIC_EXCEPTION)
        conn.close()

    def test_many_bad_connections_leave_the_broker_healthy(self):
        before = self.broker.metric("chronik_malformed_requests_total") or 0
        for _ in range(50):
            conn = self.bad()
            conn.send_raw(struct.pack(">i", 12) + os.urandom(12))
            conn.close()
        time.sleep(0.2)
        self.assertEqual(self.broker.http_get("/health")[0], 200)
        after = self.broker.metric("chronik_malformed_requests_total")
        self.assertIsNotNone(after)
        self.assertGreater(after, before)

    def _produce(self, conn, topic, batch):
        results = kw.parse_produce_v3(
            conn.call(kw.API_PRODUCE, 3, kw.produce_v3_body(topic, 0, batch)))
        self.assertEqual(len(results), 1)
        return results[0]


if __name__ == "__main__":
    harness.main()
