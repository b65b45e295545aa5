"""Named listeners and TLS with real clients. One broker with a PLAINTEXT and
an SSL listener (certificates made here with the openssl command by
tools/tls/make-test-certs.sh): kcat, confluent-kafka, kafka-python and kafkajs
produce and consume over SSL; Metadata on each listener advertises that
listener's address; mutual TLS gives the client certificate's principal
(logged); a second broker requires client certificates and refuses an
expired one and one of an unknown CA; a plaintext client on the TLS port and
a handshake that never finishes are closed while the broker keeps serving;
SIGHUP reloads the certificate without dropping connections; bad files stop
the start with an error naming them. The produce throughput over TLS and
plaintext is measured with librdkafka (printed, not asserted)."""

import json
import os
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import time
import unittest

import harness
import kafka_wire as wire
import security_test as sec
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer
from kafka import KafkaConsumer, KafkaProducer

HERE = os.path.dirname(os.path.abspath(__file__))
JS_DIR = os.path.join(HERE, "js")
PKI = os.path.join(harness.TMP, "pki-%d" % os.getpid())


def make_pki():
    if not os.path.exists(os.path.join(PKI, "server.pem")):
        script = os.path.join(os.getcwd(), "tools/tls/make-test-certs.sh")
        subprocess.run([script, PKI], check=True)
    return PKI


def pem(name):
    return os.path.join(make_pki(), name)


def tls_args(client_auth="requested", timeout_ms=1000):
    return ["--tls-cert-file=" + pem("server.pem"),
            "--tls-key-file=" + pem("server.key"),
            "--tls-ca-file=" + pem("ca.pem"),
            "--tls-client-auth=" + client_auth,
            "--tls-handshake-timeout-ms=%d" % timeout_ms]


def two_listeners():
    plain, ssl = harness.free_port(), harness.free_port()
    return plain, ssl, [
        "--listeners=PLAINTEXT://127.0.0.1:%d,SSL://127.0.0.1:%d" %
        (plain, ssl)]


def ssl_conf(port, cert=None, **extra):
    conf = {"bootstrap.servers": "127.0.0.1:%d" % port,
            "security.protocol": "SSL",
            "ssl.ca.location": pem("ca.pem")}
    if cert:
        conf["ssl.certificate.location"] = pem(cert + ".pem")
        conf["ssl.key.location"] = pem(cert + ".key")
    conf.update(extra)
    return conf


def confluent_round_trip(test, conf, topic, values):
    producer = Producer(dict(conf, **{"linger.ms": 5}))
    errors = []
    for value in values:
        producer.produce(topic, value=value, partition=0,
                         on_delivery=lambda err, msg: err and errors.append(err))
    test.assertEqual(producer.flush(20), 0)
    test.assertEqual(errors, [])
    consumer = Consumer(dict(conf, **{"group.id": "g-" + topic,
                                      "auto.offset.reset": "earliest"}))
    consumer.subscribe([topic])
    got = []
    deadline = time.time() + 30
    while len(got) < len(values) and time.time() < deadline:
        msg = consumer.poll(0.5)
        if msg is not None and msg.error() is None:
            got.append(msg.value())
    consumer.close()
    test.assertEqual(got, values)


def read_exactly(sock, size):
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise AssertionError("connection closed after %d bytes" % len(data))
        data += chunk
    return data


def closed_by_server(sock, timeout_s):
    sock.settimeout(timeout_s)
    try:
        while True:
            data = sock.recv(4096)
            if not data:
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


class TlsListenersTest(unittest.TestCase):
    """PLAINTEXT and SSL listeners on one broker, client auth requested."""

    @classmethod
    def setUpClass(cls):
        cls.plain, cls.ssl, listeners = two_listeners()
        cls.broker = harness.Broker(
            "tls", args=listeners + tls_args("requested")).start()

    @classmethod
    def tearDownClass(cls):
        code = cls.broker.stop()
        if code != 0:
            raise AssertionError("broker exited %s:\n%s" %
                                 (code, cls.broker.log()[-5000:]))

    def tearDown(self):
        self.assertTrue(self.broker.alive(),
                        "broker died:\n" + self.broker.log()[-5000:])

    def topic(self, base):
        return "%s-%d" % (base, int(time.time() * 1000) % 1000000)

    def kcat(self, port, args, tls=True, cert=None, stdin=None):
        cmd = ["kcat", "-b", "127.0.0.1:%d" % port, "-m", "10"]
        if tls:
            cmd += ["-X", "security.protocol=SSL",
                    "-X", "ssl.ca.location=" + pem("ca.pem")]
        if cert:
            cmd += ["-X", "ssl.certificate.location=" + pem(cert + ".pem"),
                    "-X", "ssl.key.location=" + pem(cert + ".key")]
        return subprocess.run(cmd + args, input=stdin, capture_output=True,
                              text=True, timeout=60)

    def test_start_line_lists_both_listeners(self):
        self.assertIn("listeners=PLAINTEXT://127.0.0.1:%d(PLAINTEXT" %
                      self.plain, self.broker.log())
        self.assertIn("SSL://127.0.0.1:%d(SSL" % self.ssl, self.broker.log())

    def test_metadata_advertises_the_listener_the_client_came_in_on(self):
        for port, tls in ((self.ssl, True), (self.plain, False)):
            proc = self.kcat(port, ["-L", "-J"], tls=tls)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            brokers = json.loads(proc.stdout)["brokers"]
            self.assertEqual([b["name"] for b in brokers],
                             ["127.0.0.1:%d" % port], proc.stdout)

    def test_kcat_produces_and_consumes_over_ssl(self):
        topic = self.topic("kcat-ssl")
        proc = self.kcat(self.ssl, ["-P", "-t", topic, "-p", "0"],
                         stdin="one\ntwo\nthree\n")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        proc = self.kcat(self.ssl, ["-C", "-t", topic, "-p", "0", "-o",
                                    "beginning", "-e", "-f", "%s\\n"])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout.split(), ["one", "two", "three"])

    def test_confluent_kafka_mutual_tls_principal_is_logged(self):
        topic = self.topic("confluent-ssl")
        confluent_round_trip(self, ssl_conf(self.ssl, cert="client"), topic,
                             [b"a", b"b", b"c"])
        harness.wait_until(
            lambda: "on SSL as User:CN=alice,OU=Clients,O=Example" in
            self.broker.log(), what="the client principal in the log")

    def test_kafka_python_over_ssl(self):
        topic = self.topic("kafka-python-ssl")
        common = dict(bootstrap_servers="127.0.0.1:%d" % self.ssl,
                      security_protocol="SSL", ssl_cafile=pem("ca.pem"),
                      ssl_check_hostname=True)
        producer = KafkaProducer(**common)
        for i in range(5):
            producer.send(topic, value=b"v%d" % i, partition=0).get(timeout=20)
        producer.close()
        consumer = KafkaConsumer(topic, auto_offset_reset="earliest",
                                 consumer_timeout_ms=10000, **common)
        got = [m.value for m in consumer][:5]
        consumer.close()
        self.assertEqual(got, [b"v%d" % i for i in range(5)])

    def test_kafkajs_over_ssl_with_a_client_certificate(self):
        node = shutil.which("node")
        if node is None or not os.path.isdir(
                os.path.join(JS_DIR, "node_modules", "kafkajs")):
            self.fail("node or tests/e2e/js/node_modules/kafkajs missing: "
                      "run tools/setup")
        proc = subprocess.run(
            [node, os.path.join(JS_DIR, "tls.js"), "127.0.0.1:%d" % self.ssl,
             self.topic("kafkajs-ssl"), pem("ca.pem"), pem("client.pem"),
             pem("client.key")], capture_output=True, text=True, timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)

    def test_plaintext_client_on_the_tls_port_is_closed(self):
        sock = socket.create_connection(("127.0.0.1", self.ssl))
        # An ApiVersions v3 request, in plaintext.
        sock.sendall(b"\x00\x00\x00\x0d\x00\x12\x00\x03\x00\x00\x00\x01"
                     b"\x00\x01c\x00")
        self.assertTrue(closed_by_server(sock, 5))
        sock.close()
        # librdkafka configured for PLAINTEXT fails against it, too.
        proc = self.kcat(self.ssl, ["-L"], tls=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("handshake with 127.0.0.1", self.broker.log())
        # The next SSL client is served.
        proc = self.kcat(self.ssl, ["-L"])
        self.assertEqual(proc.returncode, 0, proc.stderr)

    def test_a_handshake_that_never_finishes_is_timed_out(self):
        start = time.time()
        sock = socket.create_connection(("127.0.0.1", self.ssl))
        sock.sendall(b"\x16\x03\x01")  # the start of a ClientHello, no more
        self.assertTrue(closed_by_server(sock, 5))
        self.assertLess(time.time() - start, 4)  # timeout 1 s
        sock.close()
        self.assertIn("timed out: closing it", self.broker.log())
        proc = self.kcat(self.ssl, ["-L"])
        self.assertEqual(proc.returncode, 0, proc.stderr)

    def test_sighup_reloads_without_dropping_connections(self):
        context = ssl.create_default_context(cafile=pem("ca.pem"))
        raw = socket.create_connection(("127.0.0.1", self.ssl), timeout=10)
        conn = context.wrap_socket(raw, server_hostname="localhost")

        def api_versions(correlation_id):
            body = struct.pack(">hhih", 18, 0, correlation_id, 1) + b"c"
            conn.sendall(struct.pack(">i", len(body)) + body)
            size = struct.unpack(">i", read_exactly(conn, 4))[0]
            response = read_exactly(conn, size)
            return struct.unpack(">ih", response[:6])  # id, error code

        self.assertEqual(api_versions(1), (1, 0))
        self.broker.proc.send_signal(signal.SIGHUP)
        harness.wait_until(lambda: "SIGHUP: reloaded the TLS certificate" in
                           self.broker.log(), what="the reload line")
        # The connection opened before the reload still works.
        self.assertEqual(api_versions(2), (2, 0))
        conn.close()
        proc = self.kcat(self.ssl, ["-L"])
        self.assertEqual(proc.returncode, 0, proc.stderr)

    def test_produce_throughput_over_tls_and_plaintext(self):
        load = os.environ.get("CHRONIK_LOAD")
        if not load or not os.path.exists(load):
            self.skipTest("chronik-load not built (CHRONIK_LOAD)")
        rates = {}
        for name, port, extra in (
                ("plaintext", self.plain, []),
                ("tls", self.ssl, ["--client_config=security.protocol=SSL,"
                                   "ssl.ca.location=" + pem("ca.pem")])):
            proc = subprocess.run(
                [load, "--brokers=127.0.0.1:%d" % port, "--duration_s=5",
                 "--message_bytes=1024", "--acks=1",
                 "--topic=load-%s" % name] + extra,
                capture_output=True, text=True, timeout=120)
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
            print(name, proc.stdout)
            rates[name] = proc.stdout
        print("THROUGHPUT", rates)


class RequiredClientAuthTest(unittest.TestCase):
    """An SSL listener that requires client certificates."""

    @classmethod
    def setUpClass(cls):
        cls.plain, cls.ssl, listeners = two_listeners()
        cls.broker = harness.Broker(
            "mtls", args=listeners + tls_args("required")).start()

    @classmethod
    def tearDownClass(cls):
        cls.assert_exit = cls.broker.stop()

    def refused(self, cert):
        admin_conf = ssl_conf(self.ssl, cert=cert, **{"socket.timeout.ms": 3000})
        producer = Producer(admin_conf)
        try:
            producer.list_topics(timeout=4)
            return False
        except KafkaException:
            return True

    def test_a_good_client_certificate_is_served(self):
        confluent_round_trip(self, ssl_conf(self.ssl, cert="client"),
                             "mtls-good", [b"x"])

    def test_no_expired_or_unknown_ca_certificate_is_refused(self):
        for cert in (None, "expired", "stranger"):
            self.assertTrue(self.refused(cert), cert)
        log = self.broker.log()
        self.assertIn("certificate has expired", log)
        self.assertIn("unable to get local issuer certificate", log)
        self.assertTrue(self.broker.alive())
        self.assertFalse(self.refused("client"))


class BadFilesTest(unittest.TestCase):
    """Bad TLS files stop the start with an error naming the file."""

    def start_fails(self, args):
        broker = harness.Broker("badtls", args=two_listeners()[2] + args)
        with self.assertRaises(AssertionError):
            broker.start(timeout_s=10)
        broker.proc.wait(timeout=10)
        self.assertNotEqual(broker.proc.returncode, 0)
        return broker.log()

    def test_missing_mismatched_and_expired_files_are_named(self):
        base = tls_args("none")
        missing = pem("nope.pem")
        log = self.start_fails([a for a in base if "cert-file" not in a] +
                               ["--tls-cert-file=" + missing])
        self.assertIn("--tls-cert-file %s: cannot read it" % missing, log)
        log = self.start_fails([a for a in base if "key-file" not in a] +
                               ["--tls-key-file=" + pem("wrong.key")])
        self.assertIn("--tls-key-file %s: the key does not match" %
                      pem("wrong.key"), log)
        log = self.start_fails(
            [a for a in base if "-file" not in a or "ca-file" in a] +
            ["--tls-cert-file=" + pem("expired.pem"),
             "--tls-key-file=" + pem("expired.key")])
        self.assertIn("the certificate has expired", log)
        log = self.start_fails(["--listeners=SSL://127.0.0.1:%d" %
                                harness.free_port()])
        self.assertIn("needs --tls-cert-file and --tls-key-file", log)


class ClusterTlsTest(unittest.TestCase):
    """Three nodes, each with a PLAINTEXT and an SSL listener, Raft over
    mutual TLS: Metadata on a node's SSL listener lists every broker at its
    SSL address (peers' listeners come from their registrations), and a
    replicated topic is written and read over SSL; SIGHUP reloads the Raft
    TLS files and replication goes on."""

    def test_three_nodes_advertise_their_ssl_listeners(self):
        ids = (1, 2, 3)
        ports = {i: [harness.free_port() for _ in range(4)] for i in ids}
        text = ("enabled = true\nreplication_factor = 3\n"
                "min_insync_replicas = 2\n")
        for node, (kafka, raft, http, _) in sorted(ports.items()):
            text += ('\n[[peers]]\nid = %d\naddr = "127.0.0.1:%d"\n'
                     'raft_port = %d\nhttp_port = %d\n' %
                     (node, kafka, raft, http))
        path = os.path.join(harness.TMP, "tls-cluster-%d.toml" % os.getpid())
        with open(path, "w") as f:
            f.write(text)
        brokers = {}
        try:
            for node, (kafka, _, http, ssl_port) in sorted(ports.items()):
                broker = harness.Broker("tlsnode%d" % node, args=[
                    "--cluster-config=" + path, "--node-id=%d" % node,
                    "--listeners=PLAINTEXT://127.0.0.1:%d,SSL://127.0.0.1:%d"
                    % (kafka, ssl_port), "--raft-tls=true"] +
                    tls_args("none"))
                broker.kafka_port, broker.http_port = kafka, http
                brokers[node] = broker.start(wait_ready=False)
            for broker in brokers.values():
                broker.wait_ready(timeout_s=30)
            ssl_ports = sorted(p[3] for p in ports.values())
            conf = ssl_conf(ports[2][3])

            def ssl_brokers():
                metadata = Producer(conf).list_topics(timeout=10)
                return sorted(b.port for b in metadata.brokers.values())
            harness.wait_until(lambda: ssl_brokers() == ssl_ports,
                               timeout_s=20, what="three SSL brokers")
            confluent_round_trip(self, dict(conf, **{"acks": "all"}),
                                 "tls-cluster", [b"r1", b"r2"])
            # SIGHUP rereads the Raft TLS files too; replication goes on.
            brokers[1].proc.send_signal(signal.SIGHUP)
            harness.wait_until(
                lambda: "SIGHUP: reloaded the Raft TLS certificate" in
                brokers[1].log(), timeout_s=10, what="the Raft TLS reload")
            time.sleep(1.5)  # the new files are served within a second
            confluent_round_trip(self, dict(conf, **{"acks": "all"}),
                                 "tls-cluster-2", [b"r3"])
        finally:
            for broker in brokers.values():
                broker.stop()


class SaslSslTest(unittest.TestCase):
    """SASL over TLS with ACLs, as the README's security sections start it:
    one SASL_SSL listener, PLAIN users from a file, a super user."""

    @classmethod
    def setUpClass(cls):
        cls.port = harness.free_port()
        # A SASL_PLAINTEXT listener too: SCRAM users are created on it with
        # the raw wire (no installed client has AlterUserScramCredentials).
        cls.admin_port = harness.free_port()
        users = os.path.join(harness.TMP, "users-%d.txt" % os.getpid())
        with open(users, "w") as f:
            f.write("admin:admin-secret\nalice:alice-secret\n")
        cls.broker = harness.Broker("sasl-ssl", args=[
            "--listeners=SASL_SSL://127.0.0.1:%d,SASL_PLAINTEXT://127.0.0.1:%d"
            % (cls.port, cls.admin_port),
            "--sasl-plain-users-file=" + users,
            "--super-users=User:admin;User:carol;User:dave",
            "--failed-authentication-delay-ms=300",
        ] + tls_args("none")).start()
        conn = wire.Connection(cls.admin_port)
        try:
            assert sec.plain_login(conn, "admin", "admin-secret") == 0
            for _, (user, password, mid, digest) in sec.SCRAM.items():
                assert sec.alter_scram(conn, user, mid, password, digest) == 0
        finally:
            conn.close()

    @classmethod
    def tearDownClass(cls):
        cls.broker.kill9()

    def conf(self, user, password):
        return {"bootstrap.servers": "127.0.0.1:%d" % self.port,
                "security.protocol": "SASL_SSL",
                "ssl.ca.location": pem("ca.pem"),
                "sasl.mechanisms": "PLAIN", "sasl.username": user,
                "sasl.password": password}

    def produce(self, user, password, topic):
        producer = Producer(dict(self.conf(user, password),
                                 **{"message.timeout.ms": 10000}))
        results = []
        producer.produce(topic, value=b"v", partition=0,
                         on_delivery=lambda err, msg: results.append(err))
        producer.flush(20)
        return results

    def test_acls_over_sasl_ssl(self):
        from kafka.admin import (ACL, ACLOperation, ACLPermissionType,
                                 ACLResourcePatternType, KafkaAdminClient,
                                 ResourcePattern, ResourceType)
        confluent_round_trip(self, self.conf("admin", "admin-secret"),
                             "granted", [b"a", b"b"])
        admin = KafkaAdminClient(
            bootstrap_servers="127.0.0.1:%d" % self.port,
            security_protocol="SASL_SSL", ssl_cafile=pem("ca.pem"),
            ssl_check_hostname=False, sasl_mechanism="PLAIN",
            sasl_plain_username="admin", sasl_plain_password="admin-secret")
        created = admin.create_acls([ACL(
            "User:alice", "*", ACLOperation.WRITE, ACLPermissionType.ALLOW,
            ResourcePattern(ResourceType.TOPIC, "granted",
                            ACLResourcePatternType.LITERAL))])
        admin.close()
        self.assertEqual(created["failed"], [], created)
        self.assertEqual(self.produce("alice", "alice-secret", "granted"),
                         [None])
        refused = self.produce("alice", "alice-secret", "other")
        self.assertEqual(len(refused), 1)
        self.assertEqual(refused[0].code(),
                         KafkaError.TOPIC_AUTHORIZATION_FAILED, refused)
        proc = subprocess.run(
            ["kcat", "-b", "127.0.0.1:%d" % self.port, "-m", "10", "-L",
             "-X", "security.protocol=SASL_SSL",
             "-X", "ssl.ca.location=" + pem("ca.pem"),
             "-X", "sasl.mechanisms=PLAIN", "-X", "sasl.username=alice",
             "-X", "sasl.password=wrong"],
            capture_output=True, text=True, timeout=60)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("Authentication", proc.stderr)
        self.assertTrue(self.broker.alive())


    def scram_conf(self, mechanism, good=True):
        user, password = sec.credentials(mechanism, good)
        return dict(sec.rdkafka_conf("127.0.0.1:%d" % self.port, mechanism,
                                     user, password),
                    **{"security.protocol": "SASL_SSL",
                       "ssl.ca.location": pem("ca.pem")})

    def test_confluent_kafka_scram_over_sasl_ssl(self):
        for mechanism in ("SCRAM-SHA-256", "SCRAM-SHA-512"):
            with self.subTest(mechanism=mechanism):
                topic = "ssl-confluent-" + mechanism.lower()
                values = ["%s-%d" % (mechanism, i) for i in range(3)]
                self.assertEqual(sec.produce_confluent(
                    self.scram_conf(mechanism), topic, values), [None] * 3)
                got, error = sec.consume_confluent(
                    self.scram_conf(mechanism), topic, "g-" + topic, 3)
                self.assertIsNone(error)
                self.assertEqual(got, values)
                errors = []
                producer = Producer(dict(
                    self.scram_conf(mechanism, good=False),
                    error_cb=lambda e: errors.append(e.code())))
                deadline = time.time() + 10
                while time.time() < deadline and not errors:
                    producer.poll(0.2)
                self.assertIn(KafkaError._AUTHENTICATION, errors)
        self.assertIn("SASL SCRAM-SHA-512 authentication of 'dave' failed",
                      self.broker.log())
        self.assertTrue(self.broker.alive())

    def test_a_failed_login_is_answered_and_closed_after_the_delay(self):
        conn = wire.Connection(self.admin_port)
        try:
            start = time.monotonic()
            self.assertEqual(sec.plain_login(conn, "alice", "wrong"),
                             58)  # SASL_AUTHENTICATION_FAILED
            elapsed = time.monotonic() - start
            self.assertTrue(conn.closed_by_peer())
        finally:
            conn.close()
        self.assertGreaterEqual(elapsed, 0.3)
        self.assertLess(elapsed, 5)

    def test_kafkajs_scram_over_sasl_ssl(self):
        node = shutil.which("node")
        self.assertIsNotNone(node, "node missing")
        for mechanism in ("SCRAM-SHA-256", "SCRAM-SHA-512"):
            for expect in ("ok", "fail"):
                with self.subTest(mechanism=mechanism, expect=expect):
                    user, password = sec.credentials(mechanism,
                                                     expect == "ok")
                    proc = subprocess.run(
                        [node, os.path.join(JS_DIR, "security.js"),
                         "127.0.0.1:%d" % self.port, mechanism.lower(), user,
                         password, "ssl-kafkajs-" + mechanism.lower(), expect,
                         pem("ca.pem")],
                        capture_output=True, text=True, timeout=120)
                    print(proc.stdout)
                    self.assertEqual(proc.returncode, 0,
                                     proc.stdout + proc.stderr)
        self.assertTrue(self.broker.alive())


class TakenPortTest(unittest.TestCase):
    def test_a_taken_port_names_the_listener(self):
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            broker = harness.Broker("taken", args=[
                "--listeners=PLAINTEXT://127.0.0.1:%d,SSL://127.0.0.1:%d" %
                (harness.free_port(), port)] + tls_args("none"))
            with self.assertRaises(AssertionError):
                broker.start(timeout_s=10)
            broker.proc.wait(timeout=10)
        self.assertIn("SSL listener on 127.0.0.1:%d: port %d is already in "
                      "use" % (port, port), broker.log())


if __name__ == "__main__":
    harness.main()
