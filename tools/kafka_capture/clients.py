#!/usr/bin/python3
"""Drives kafka-python and confluent-kafka against capture.py (see
run_clients.sh). Every call is bounded by short timeouts: the capture listener
answers only a few APIs, so most requests are recorded and then time out."""
import sys
import threading

BOOTSTRAP = sys.argv[1]
WHICH = sys.argv[2]


def quietly(fn):
    try:
        fn()
    except Exception as e:  # the listener leaves most requests unanswered
        print(WHICH, "ignored:", type(e).__name__, e, file=sys.stderr)


def kafka_python():
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
    from kafka.admin import ConfigResource, ConfigResourceType, NewTopic

    def produce():
        p = KafkaProducer(bootstrap_servers=BOOTSTRAP, client_id="kafka-python-producer",
                          compression_type="gzip", request_timeout_ms=3000, max_block_ms=4000)
        p.send("test", key=b"key-1", value=b"value-1 " * 40, headers=[("h", b"1")]).get(timeout=4)
        p.close(timeout=1)
    quietly(produce)

    def fetch():
        c = KafkaConsumer(bootstrap_servers=BOOTSTRAP, client_id="kafka-python-fetcher",
                          request_timeout_ms=3000, consumer_timeout_ms=2000)
        tp = TopicPartition("test", 0)
        c.assign([tp])
        c.seek(tp, 0)
        c.poll(timeout_ms=1500)
        c.close()
    quietly(fetch)

    def group():
        c = KafkaConsumer("test", bootstrap_servers=BOOTSTRAP, client_id="kafka-python-group",
                          group_id="pygroup", request_timeout_ms=3000, consumer_timeout_ms=2000,
                          session_timeout_ms=6000, heartbeat_interval_ms=1000)
        c.poll(timeout_ms=2500)
        c.close(autocommit=False)
    quietly(group)

    def admin():
        a = KafkaAdminClient(bootstrap_servers=BOOTSTRAP, client_id="kafka-python-admin",
                             request_timeout_ms=1500)
        quietly(lambda: a.create_topics([NewTopic("pytopic", 3, 1,
                                                  topic_configs={"cleanup.policy": "compact"})]))
        quietly(lambda: a.describe_configs([ConfigResource(ConfigResourceType.TOPIC, "test")]))
        quietly(lambda: a.delete_topics(["pytopic"]))
        a.close()
    quietly(admin)


def confluent():
    from confluent_kafka import Consumer, Producer
    from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

    a = AdminClient({"bootstrap.servers": BOOTSTRAP, "client.id": "confluent-admin"})
    for fs in (lambda: a.create_topics([NewTopic("ctopic", 3, 1, config={"retention.ms": "1000"})],
                                       request_timeout=2),
               lambda: a.describe_configs([ConfigResource("topic", "test")], request_timeout=2),
               lambda: a.delete_topics(["ctopic"], request_timeout=2)):
        def run(fs=fs):
            for f in fs().values():
                quietly(lambda: f.result(timeout=3))
        quietly(run)

    p = Producer({"bootstrap.servers": BOOTSTRAP, "client.id": "confluent-producer",
                  "compression.type": "zstd", "linger.ms": 5})
    for i in range(3):
        p.produce("test", key=b"k%d" % i, value=b"confluent value %d " % i * 20,
                  headers=[("trace", b"t%d" % i)])
    p.flush(4)

    c = Consumer({"bootstrap.servers": BOOTSTRAP, "client.id": "confluent-consumer",
                  "group.id": "cgroup", "session.timeout.ms": 6000})
    c.subscribe(["test"])
    t = threading.Timer(4, lambda: None)
    t.start()
    for _ in range(4):
        c.poll(1.0)
    c.close()


if WHICH == "kafka-python":
    kafka_python()
else:
    confluent()
