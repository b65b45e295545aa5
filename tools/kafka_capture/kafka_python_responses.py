#!/usr/bin/python3
"""Encodes one response body per (API, version) with kafka-python's own protocol
classes (an implementation independent of ours) into
broker/kafka/testdata/kafka_python_responses/resp-<key>-<version>-<Name>.bin.

Values are filled generically and deterministically from each class's SCHEMA:
integers count up from 1 (wrapping to fit), strings are "s<n>", bytes "b<n>",
booleans alternate, every array has two elements. captured_test.cc decodes
each file with our codec, re-encodes it byte for byte and checks a few values.
Usage: kafka_python_responses.py OUT_DIR
"""
import os
import sys

from kafka.protocol import admin, commit, fetch, group, metadata, offset, produce
from kafka.protocol.types import (Array, Boolean, Bytes, Int8, Int16, Int32,
                                  Int64, Schema, String)

# kafka-python class -> Kafka API key.
CLASSES = [
    (produce.ProduceResponse, 0), (fetch.FetchResponse, 1),
    (offset.OffsetResponse, 2), (metadata.MetadataResponse, 3),
    (commit.OffsetCommitResponse, 8), (commit.OffsetFetchResponse, 9),
    (commit.GroupCoordinatorResponse, 10), (group.JoinGroupResponse, 11),
    (group.HeartbeatResponse, 12), (group.LeaveGroupResponse, 13),
    (group.SyncGroupResponse, 14), (admin.DescribeGroupsResponse, 15),
    (admin.ListGroupsResponse, 16), (admin.SaslHandShakeResponse, 17),
    (admin.ApiVersionResponse, 18), (admin.CreateTopicsResponse, 19),
    (admin.DeleteTopicsResponse, 20), (admin.DescribeConfigsResponse, 32),
    (admin.AlterConfigsResponse, 33), (admin.SaslAuthenticateResponse, 36),
    (admin.CreatePartitionsResponse, 37),
]


# Classes where kafka-python 2.0.2 departs from Kafka's JSON schemas, skipped:
# its GroupCoordinatorResponse_v1 lacks ThrottleTimeMs (added in v1), its
# DescribeGroupsResponse_v3 lacks AuthorizedOperations (added in v3) and its
# ProduceResponse_v8 lacks RecordErrors and ErrorMessage (added in v8).
KNOWN_DEVIATIONS = {"GroupCoordinatorResponse_v1", "DescribeGroupsResponse_v3",
                    "ProduceResponse_v8"}


class Filler:
    def __init__(self):
        self.n = 0

    def next(self):
        self.n += 1
        return self.n

    def value(self, t):
        if isinstance(t, Schema):
            return tuple(self.value(f) for f in t.fields)
        if isinstance(t, Array):
            return [self.value(t.array_of) for _ in range(2)]
        if isinstance(t, String):
            return "s%d" % self.next()
        if t is Int8 or isinstance(t, Int8):
            return self.next() % 100
        if t is Int16 or isinstance(t, Int16):
            return self.next() % 30000
        if t is Int32 or isinstance(t, Int32):
            return self.next() * 1000
        if t is Int64 or isinstance(t, Int64):
            return self.next() * 1000000007
        if t is Boolean or isinstance(t, Boolean):
            return self.next() % 2 == 1
        if t is Bytes or isinstance(t, Bytes):
            return b"b%d" % self.next()
        raise TypeError("unhandled type %r" % (t,))


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for versions, key in CLASSES:
        for version, cls in enumerate(versions):
            if not cls.__name__.endswith("Response_v%d" % version):
                continue  # kafka-python lists AlterConfigsRequest_v1 here
            if cls.__name__ in KNOWN_DEVIATIONS:
                continue
            fields = Filler().value(cls.SCHEMA)
            response = cls(*fields)  # keep a reference: encode() is a weak method
            body = response.encode()
            name = "resp-%d-%d-%s.bin" % (key, version, cls.__name__)
            with open(os.path.join(out, name), "wb") as f:
                f.write(body)
            print(name, len(body))


if __name__ == "__main__":
    main()
