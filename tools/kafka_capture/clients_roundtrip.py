#!/usr/bin/python3
"""kafka-python produces (gzip) and consumes its messages back through
codec_server. Exits non-zero on any error or mismatch."""
import sys

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

bootstrap = sys.argv[1]
producer = KafkaProducer(bootstrap_servers=bootstrap, compression_type="gzip",
                         request_timeout_ms=5000, max_block_ms=10000)
values = [b"kafka-python %d " % i * 10 for i in range(5)]
offsets = [producer.send("pytopic", key=b"k", value=v).get(timeout=10).offset
           for v in values]
producer.close(timeout=5)
assert offsets == list(range(5)), offsets

consumer = KafkaConsumer(bootstrap_servers=bootstrap, request_timeout_ms=5000,
                         consumer_timeout_ms=5000)
tp = TopicPartition("pytopic", 0)
consumer.assign([tp])
consumer.seek_to_beginning(tp)
got = []
for message in consumer:
    got.append(message.value)
    if len(got) == len(values):
        break
consumer.close()
assert got == values, got
print("kafka-python round trip ok")

# Consumer group: FindCoordinator, JoinGroup, SyncGroup, OffsetFetch, Fetch,
# OffsetCommit, Heartbeat, LeaveGroup in kafka-python's versions.
group = KafkaConsumer("pytopic", bootstrap_servers=bootstrap, group_id="pygroup",
                      auto_offset_reset="earliest", enable_auto_commit=False,
                      request_timeout_ms=11000, session_timeout_ms=10000,
                      consumer_timeout_ms=8000)
got = []
for message in group:
    got.append(message.value)
    if len(got) == len(values):
        break
group.commit()
committed = group.committed(tp)
group.close()
assert got == values, got
assert committed == len(values), committed
print("kafka-python group ok")
