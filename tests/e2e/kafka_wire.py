"""A minimal Kafka wire client for tests that must send exactly chosen bytes:
bad input, exact versions, hand-made record batches, answers a client library
hides. Facts from Kafka's protocol documentation (request header v1 and v2, ElectLeaders v0-2,
ApiVersions v0-3, Produce v3, Metadata v1, Fetch v0, ListOffsets v1,
DeleteRecords v0, record batch v2 with CRC-32C over attributes..end)."""

import socket
import struct
import time

API_PRODUCE = 0
API_FETCH = 1
API_LIST_OFFSETS = 2
API_METADATA = 3
API_VERSIONS = 18
API_ELECT_LEADERS = 43
API_DELETE_RECORDS = 21


def _crc32c_table():
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _crc32c_table()


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def string(s):
    if s is None:
        return struct.pack(">h", -1)
    b = s.encode()
    return struct.pack(">h", len(b)) + b


def varint(n):
    n = (n << 1) ^ (n >> 63)  # zigzag
    out = b""
    while n >= 0x80:
        out += bytes([(n & 0x7F) | 0x80])
        n >>= 7
    return out + bytes([n])


def record_batch(values, timestamp_ms=None, corrupt_crc=False):
    """An uncompressed v2 batch of `values` (bytes), base offset 0."""
    ts = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
    records = b""
    for i, value in enumerate(values):
        body = (b"\x00" + varint(0) + varint(i) + varint(-1) +
                varint(len(value)) + value + varint(0))
        records += varint(len(body)) + body
    after_crc = (struct.pack(">hiqqqhii", 0, len(values) - 1, ts, ts, -1, -1,
                             -1, len(values)) + records)
    crc = crc32c(after_crc)
    if corrupt_crc:
        crc ^= 0xDEADBEEF
    after_length = struct.pack(">ibI", 0, 2, crc) + after_crc
    return struct.pack(">qi", 0, len(after_length)) + after_length


def uvarint(n):
    out = b""
    while n >= 0x80:
        out += bytes([(n & 0x7F) | 0x80])
        n >>= 7
    return out + bytes([n])


def read_uvarint(data, pos):
    """(value, position after it)"""
    value, shift = 0, 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def compact_string(s):
    if s is None:
        return b"\x00"
    b = s.encode()
    return uvarint(len(b) + 1) + b


def request(api_key, version, correlation_id, body, client_id="chronik-e2e",
            flexible=False):
    """A request frame; `flexible`: header v2 (an empty tagged-field
    section after the client id), else v1."""
    header = struct.pack(">hhi", api_key, version, correlation_id) + string(
        client_id)
    if flexible:
        header += b"\x00"
    payload = header + body
    return struct.pack(">i", len(payload)) + payload


def produce_v3_body(topic, partition, batch, acks=1, timeout_ms=5000):
    return (string(None) + struct.pack(">hi", acks, timeout_ms) +
            struct.pack(">i", 1) + string(topic) + struct.pack(">i", 1) +
            struct.pack(">ii", partition, len(batch)) + batch)


def parse_produce_v3(body):
    """[(topic, partition, error_code, base_offset)]"""
    pos = 0
    out = []
    (ntopics,) = struct.unpack_from(">i", body, pos)
    pos += 4
    for _ in range(ntopics):
        (n,) = struct.unpack_from(">h", body, pos)
        pos += 2
        name = body[pos:pos + n].decode()
        pos += n
        (nparts,) = struct.unpack_from(">i", body, pos)
        pos += 4
        for _ in range(nparts):
            index, error, base, _append = struct.unpack_from(">ihqq", body,
                                                             pos)
            pos += 22
            out.append((name, index, error, base))
    return out


def metadata_v1_body(topics):
    if topics is None:
        return struct.pack(">i", -1)
    return struct.pack(">i", len(topics)) + b"".join(string(t) for t in topics)


def parse_metadata_v1_topics(body):
    """{topic: (error_code, [partition error codes])}"""
    pos = 0
    (nbrokers,) = struct.unpack_from(">i", body, pos)
    pos += 4
    for _ in range(nbrokers):
        pos += 4
        (n,) = struct.unpack_from(">h", body, pos)
        pos += 2 + n + 4
        (n,) = struct.unpack_from(">h", body, pos)
        pos += 2 + max(n, 0)
    pos += 4  # controller id
    (ntopics,) = struct.unpack_from(">i", body, pos)
    pos += 4
    topics = {}
    for _ in range(ntopics):
        error, n = struct.unpack_from(">hh", body, pos)
        pos += 4
        name = body[pos:pos + n].decode()
        pos += n + 1  # is_internal
        (nparts,) = struct.unpack_from(">i", body, pos)
        pos += 4
        errors = []
        for _ in range(nparts):
            perror, _index, _leader = struct.unpack_from(">hii", body, pos)
            pos += 10
            for _ in range(2):  # replicas, isr
                (k,) = struct.unpack_from(">i", body, pos)
                pos += 4 + 4 * max(k, 0)
            errors.append(perror)
        topics[name] = (error, errors)
    return topics


ELECTION_PREFERRED = 0
ELECTION_UNCLEAN = 1


def elect_leaders_body(version, partitions, election_type=ELECTION_PREFERRED,
                       timeout_ms=10000):
    """ElectLeaders v0-2; `partitions`: {topic: [partition ids]} or None
    (every partition). v0 has no election type (preferred)."""
    flexible = version >= 2
    out = struct.pack(">b", election_type) if version >= 1 else b""
    if partitions is None:
        out += b"\x00" if flexible else struct.pack(">i", -1)
    else:
        items = sorted(partitions.items())
        out += (uvarint(len(items) + 1) if flexible else
                struct.pack(">i", len(items)))
        for topic, ids in items:
            if flexible:
                out += (compact_string(topic) + uvarint(len(ids) + 1) +
                        b"".join(struct.pack(">i", i) for i in ids) + b"\x00")
            else:
                out += (string(topic) + struct.pack(">i", len(ids)) +
                        b"".join(struct.pack(">i", i) for i in ids))
    out += struct.pack(">i", timeout_ms)
    return out + (b"\x00" if flexible else b"")


def parse_elect_leaders(version, payload):
    """(top-level error code (0 before v1), {(topic, partition): (error
    code, error message)}) from the payload after the correlation id."""
    flexible = version >= 2
    pos = 0
    if flexible:
        _, pos = read_uvarint(payload, pos)  # response header tagged fields
    pos += 4  # throttle time
    error = 0
    if version >= 1:
        (error,) = struct.unpack_from(">h", payload, pos)
        pos += 2

    def array_length():
        nonlocal pos
        if flexible:
            n, pos = read_uvarint(payload, pos)
            return n - 1
        (n,) = struct.unpack_from(">i", payload, pos)
        pos += 4
        return n

    def text():
        nonlocal pos
        if flexible:
            n, pos = read_uvarint(payload, pos)
            n -= 1
        else:
            (n,) = struct.unpack_from(">h", payload, pos)
            pos += 2
        if n < 0:
            return None
        value = payload[pos:pos + n].decode()
        pos += n
        return value

    def skip_tags():
        nonlocal pos
        if flexible:
            count, pos = read_uvarint(payload, pos)
            assert count == 0, "unexpected tagged fields"

    results = {}
    for _ in range(array_length()):
        topic = text()
        for _ in range(array_length()):
            partition, code = struct.unpack_from(">ih", payload, pos)
            pos += 6
            results[(topic, partition)] = (code, text())
            skip_tags()
        skip_tags()
    skip_tags()
    assert pos == len(payload), (pos, len(payload))
    return error, results
def fetch_v0_body(topic, partition, offset, max_bytes=1 << 20):
    return (struct.pack(">iii", -1, 0, 0) + struct.pack(">i", 1) +
            string(topic) + struct.pack(">i", 1) +
            struct.pack(">iqi", partition, offset, max_bytes))


def parse_fetch_v0(body):
    """(error_code, high_watermark, record bytes) of the one partition."""
    pos = 4  # one topic
    (n,) = struct.unpack_from(">h", body, pos)
    pos += 2 + n + 4  # name, one partition
    _index, error, high, size = struct.unpack_from(">ihqi", body, pos)
    pos += 18
    return error, high, body[pos:pos + max(size, 0)]


def list_offsets_v1_body(topic, partition, timestamp):
    """timestamp -2: earliest, -1: latest."""
    return (struct.pack(">i", -1) + struct.pack(">i", 1) + string(topic) +
            struct.pack(">i", 1) + struct.pack(">iq", partition, timestamp))


def parse_list_offsets_v1(body):
    """(error_code, offset) of the one partition."""
    pos = 4
    (n,) = struct.unpack_from(">h", body, pos)
    pos += 2 + n + 4
    _index, error, _timestamp, offset = struct.unpack_from(">ihqq", body, pos)
    return error, offset


def delete_records_v0_body(topic, offsets, timeout_ms=5000):
    """offsets: [(partition, offset)] of one topic."""
    return (struct.pack(">i", 1) + string(topic) +
            struct.pack(">i", len(offsets)) +
            b"".join(struct.pack(">iq", p, o) for p, o in offsets) +
            struct.pack(">i", timeout_ms))


def parse_delete_records_v0(body):
    """[(partition, low_watermark, error_code)] of the one topic."""
    pos = 4 + 4  # throttle time, one topic
    (n,) = struct.unpack_from(">h", body, pos)
    pos += 2 + n
    (nparts,) = struct.unpack_from(">i", body, pos)
    pos += 4
    out = []
    for _ in range(nparts):
        out.append(struct.unpack_from(">iqh", body, pos))
        pos += 14
    return out


class Connection:
    """A blocking Kafka connection with a receive timeout."""

    def __init__(self, port, timeout_s=10):
        self.sock = socket.create_connection(("127.0.0.1", port),
                                             timeout=timeout_s)
        self.correlation_id = 0

    def close(self):
        self.sock.close()

    def send_raw(self, data):
        self.sock.sendall(data)

    def send(self, api_key, version, body, flexible=False):
        self.correlation_id += 1
        self.sock.sendall(request(api_key, version, self.correlation_id, body,
                                  flexible=flexible))
        return self.correlation_id

    def recv_exactly(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("closed by the broker")
            data += chunk
        return data

    def recv_response(self):
        """(correlation_id, body after a v0 response header)."""
        (size,) = struct.unpack(">i", self.recv_exactly(4))
        payload = self.recv_exactly(size)
        (correlation_id,) = struct.unpack_from(">i", payload, 0)
        return correlation_id, payload[4:]

    def call(self, api_key, version, body, flexible=False):
        sent = self.send(api_key, version, body, flexible=flexible)
        got, response = self.recv_response()
        assert got == sent, (got, sent)
        return response

    def elect_leaders(self, version, partitions,
                      election_type=ELECTION_PREFERRED, timeout_ms=10000):
        """ElectLeaders; see parse_elect_leaders."""
        body = elect_leaders_body(version, partitions, election_type,
                                  timeout_ms)
        return parse_elect_leaders(
            version, self.call(API_ELECT_LEADERS, version, body,
                               flexible=version >= 2))

    def api_versions_v0(self):
        """{api_key: (min, max)} and the error code."""
        body = self.call(API_VERSIONS, 0, b"")
        error, n = struct.unpack_from(">hi", body, 0)
        versions = {}
        for i in range(n):
            key, lo, hi = struct.unpack_from(">hhh", body, 6 + 6 * i)
            versions[key] = (lo, hi)
        return error, versions

    def closed_by_peer(self, timeout_s=5):
        """True when the broker closes the connection within timeout_s
        (any bytes it sends first are skipped)."""
        self.sock.settimeout(timeout_s)
        deadline = time.time() + timeout_s
        try:
            while time.time() < deadline:
                if not self.sock.recv(65536):
                    return True
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True
        return False


# --- IncrementalAlterConfigs (44, v0-1) and DescribeLogDirs (35, v0-4) ---

API_DESCRIBE_LOG_DIRS = 35
API_INCREMENTAL_ALTER_CONFIGS = 44
RESOURCE_TOPIC = 2
RESOURCE_BROKER = 4
OP_SET, OP_DELETE, OP_APPEND, OP_SUBTRACT = 0, 1, 2, 3


class Reader:
    """Reads a response payload (after the correlation id): classic or
    flexible (compact) encodings; a flexible response starts with the
    response header's tagged fields."""

    def __init__(self, payload, flexible, header_tags=True):
        self.data = payload
        self.pos = 0
        self.flexible = flexible
        if flexible and header_tags:
            self.tags()

    def fixed(self, fmt):
        (value,) = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return value

    def take(self, fmt):
        """Fixed-width fields (a struct format): one value, or a tuple."""
        values = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return values if len(values) > 1 else values[0]

    def int8(self):
        return self.fixed(">b")

    def int16(self):
        return self.fixed(">h")

    def int32(self):
        return self.fixed(">i")

    def int64(self):
        return self.fixed(">q")

    def _length(self, classic):
        """A compact (uvarint + 1) or classic (`classic()`) length."""
        if self.flexible:
            n, self.pos = read_uvarint(self.data, self.pos)
            return n - 1
        return classic()

    def array_length(self):
        return self._length(self.int32)

    def text(self):
        n = self._length(self.int16)
        if n < 0:
            return None
        value = self.data[self.pos:self.pos + n].decode()
        self.pos += n
        return value

    def string(self):
        return self.text()

    def bytes(self):
        """Classic or compact bytes; None when null."""
        n = self._length(self.int32)
        if n < 0:
            return None
        value = self.data[self.pos:self.pos + n]
        self.pos += n
        return value

    def tags(self):
        if self.flexible:
            count, self.pos = read_uvarint(self.data, self.pos)
            assert count == 0, "unexpected tagged fields"

    def done(self):
        assert self.pos == len(self.data), (self.pos, len(self.data))


def _array(items, flexible):
    return uvarint(len(items) + 1) if flexible else struct.pack(">i",
                                                                len(items))


def _text(s, flexible):
    return compact_string(s) if flexible else string(s)


def incremental_alter_configs_body(version, resources, validate_only=False):
    """`resources`: [(resource type, name, [(config, op, value or None)])]."""
    flexible = version >= 1
    tag = b"\x00" if flexible else b""
    out = _array(resources, flexible)
    for rtype, name, configs in resources:
        out += struct.pack(">b", rtype) + _text(name, flexible)
        out += _array(configs, flexible)
        for config, op, value in configs:
            out += (_text(config, flexible) + struct.pack(">b", op) +
                    _text(value, flexible) + tag)
        out += tag
    return out + struct.pack(">b", 1 if validate_only else 0) + tag


def parse_incremental_alter_configs(version, payload):
    """{(resource type, name): (error code, error message)}."""
    r = Reader(payload, version >= 1)
    r.int32()  # throttle time
    results = {}
    for _ in range(r.array_length()):
        code = r.int16()
        message = r.text()
        rtype = r.int8()
        results[(rtype, r.text())] = (code, message)
        r.tags()
    r.tags()
    r.done()
    return results


def describe_log_dirs_body(version, topics):
    """`topics`: {topic: [partitions]} or None (every hosted partition)."""
    flexible = version >= 2
    if topics is None:
        out = b"\x00" if flexible else struct.pack(">i", -1)
    else:
        items = sorted(topics.items())
        out = _array(items, flexible)
        for topic, partitions in items:
            out += (_text(topic, flexible) + _array(partitions, flexible) +
                    b"".join(struct.pack(">i", p) for p in partitions))
            out += b"\x00" if flexible else b""
    return out + (b"\x00" if flexible else b"")


def parse_describe_log_dirs(version, payload):
    """(top-level error (0 before v3), [{"error", "log_dir", "total_bytes",
    "usable_bytes" (-1 before v4), "partitions": {(topic, partition):
    (size, offset lag, is future)}}])."""
    r = Reader(payload, version >= 2)
    r.int32()  # throttle time
    error = r.int16() if version >= 3 else 0
    dirs = []
    for _ in range(r.array_length()):
        entry = {"error": r.int16(), "log_dir": r.text(), "partitions": {}}
        for _ in range(r.array_length()):
            topic = r.text()
            for _ in range(r.array_length()):
                partition, size, lag, future = (r.int32(), r.int64(),
                                                r.int64(), r.int8())
                entry["partitions"][(topic, partition)] = (size, lag,
                                                           bool(future))
                r.tags()
            r.tags()
        entry["total_bytes"] = r.int64() if version >= 4 else -1
        entry["usable_bytes"] = r.int64() if version >= 4 else -1
        r.tags()
        dirs.append(entry)
    r.tags()
    r.done()
    return error, dirs


# --- Leader epochs (KIP-101/279/320): OffsetForLeaderEpoch v0 and v3,
# Metadata v7, Fetch v11, ListOffsets v4, non-flexible. ---

API_OFFSET_FOR_LEADER_EPOCH = 23

FENCED_LEADER_EPOCH = 74
UNKNOWN_LEADER_EPOCH = 75
NOT_LEADER_OR_FOLLOWER = 6
UNKNOWN_TOPIC_OR_PARTITION = 3


def offset_for_leader_epoch_body(version, topic, partitions):
    """partitions: [(partition, current_leader_epoch, leader_epoch)]; v0-1
    carry no current epoch, v3+ a replica id (-1: a consumer)."""
    body = struct.pack(">i", -1) if version >= 3 else b""
    body += struct.pack(">i", 1) + string(topic) + struct.pack(
        ">i", len(partitions))
    for partition, current, epoch in partitions:
        body += struct.pack(">i", partition)
        if version >= 2:
            body += struct.pack(">i", current)
        body += struct.pack(">i", epoch)
    return body


def parse_offset_for_leader_epoch(version, body):
    """[(partition, error_code, leader_epoch, end_offset)] of the one topic
    (leader_epoch None before v1)."""
    r = Reader(body, False)
    if version >= 2:
        r.take(">i")  # throttle time
    out = []
    for _ in range(r.take(">i")):
        r.string()
        for _ in range(r.take(">i")):
            error, partition = r.take(">hi")
            epoch = r.take(">i") if version >= 1 else None
            end = r.take(">q")
            out.append((partition, error, epoch, end))
    assert r.pos == len(body), (r.pos, len(body))
    return out


def metadata_v7_body(topics):
    if topics is None:
        body = struct.pack(">i", -1)
    else:
        body = struct.pack(">i", len(topics)) + b"".join(
            string(t) for t in topics)
    return body + b"\x00"  # no auto-creation


def parse_metadata_v7(body):
    """{topic: {partition: (error_code, leader, leader_epoch)}}"""
    r = Reader(body, False)
    r.take(">i")  # throttle time
    for _ in range(r.take(">i")):
        r.take(">i")
        r.string()
        r.take(">i")
        r.string()  # rack
    r.string()  # cluster id
    r.take(">i")  # controller
    topics = {}
    for _ in range(r.take(">i")):
        r.take(">h")
        name = r.string()
        r.take(">b")  # internal
        partitions = {}
        for _ in range(r.take(">i")):
            error, index, leader, epoch = r.take(">hiii")
            for _ in range(3):  # replicas, isr, offline
                for _ in range(r.take(">i")):
                    r.take(">i")
            partitions[index] = (error, leader, epoch)
        topics[name] = partitions
    return topics


def fetch_v11_body(topic, partition, offset, current_leader_epoch=-1,
                   max_bytes=1 << 20):
    return (struct.pack(">iiiibii", -1, 0, 0, max_bytes, 0, 0, -1) +
            struct.pack(">i", 1) + string(topic) + struct.pack(">i", 1) +
            struct.pack(">iiqqi", partition, current_leader_epoch, offset, -1,
                        max_bytes) +
            struct.pack(">i", 0) + string(""))


def parse_fetch_v11(body):
    """(error_code, high_watermark, record bytes) of the one partition."""
    r = Reader(body, False)
    r.take(">ihi")  # throttle, error, session
    r.take(">i")
    r.string()
    r.take(">i")
    _index, error, high, _lso, _start = r.take(">ihqqq")
    aborted = r.take(">i")
    for _ in range(max(aborted, 0)):
        r.take(">qq")
    r.take(">i")  # preferred read replica
    return error, high, r.bytes() or b""


def batch_epochs(records):
    """[(base_offset, last_offset, partition_leader_epoch)] of the v2
    batches in `records` (a partial last batch is ignored)."""
    out = []
    pos = 0
    while pos + 27 <= len(records):
        base, length, epoch = struct.unpack_from(">qii", records, pos)
        (last_delta,) = struct.unpack_from(">i", records, pos + 23)
        if pos + 12 + length > len(records):
            break
        out.append((base, base + last_delta, epoch))
        pos += 12 + length
    return out


def list_offsets_v4_body(topic, partition, timestamp, current_leader_epoch):
    return (struct.pack(">ib", -1, 0) + struct.pack(">i", 1) + string(topic) +
            struct.pack(">i", 1) +
            struct.pack(">iiq", partition, current_leader_epoch, timestamp))


def parse_list_offsets_v4(body):
    """(error_code, offset, leader_epoch) of the one partition."""
    r = Reader(body, False)
    r.take(">i")
    r.take(">i")
    r.string()
    r.take(">i")
    _index, error, _ts, offset, epoch = r.take(">ihqqi")
    return error, offset, epoch
