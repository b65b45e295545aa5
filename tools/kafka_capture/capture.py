#!/usr/bin/python3
"""Records Kafka request frames sent by real clients, for codec test vectors.

Listens on 127.0.0.1:PORT, accepts any number of client connections and writes
each distinct request frame (size prefix included) to
OUT_DIR/<client id>-<api name>-v<version>.bin, the first one of each kind.
It answers just enough for clients to get further: ApiVersions (chronik's
served table), Metadata (one broker = this listener, each requested topic with
one partition led by it), FindCoordinator (this listener), InitProducerId and
Produce (success). Everything else is recorded and left unanswered.

Usage: capture.py PORT OUT_DIR   (runs until killed)
Drive it with tools/kafka_capture/run_clients.sh.
"""
import os
import socket
import struct
import sys
import threading

API_NAMES = {0: "produce", 1: "fetch", 2: "list_offsets", 3: "metadata",
             8: "offset_commit", 9: "offset_fetch", 10: "find_coordinator",
             11: "join_group", 12: "heartbeat", 13: "leave_group",
             14: "sync_group", 15: "describe_groups", 16: "list_groups",
             17: "sasl_handshake", 18: "api_versions", 19: "create_topics",
             20: "delete_topics", 21: "delete_records", 22: "init_producer_id",
             32: "describe_configs", 33: "alter_configs", 36: "sasl_authenticate",
             37: "create_partitions", 60: "describe_cluster"}
# (key, max version served), as in broker/kafka/protocol.cc; min is always 0.
SERVED = [(0, 9), (1, 12), (2, 7), (3, 12), (8, 8), (9, 8), (10, 4), (11, 7),
          (12, 4), (13, 4), (14, 5), (15, 5), (16, 4), (17, 1), (18, 3),
          (19, 7), (20, 6), (21, 2), (22, 4), (32, 4), (33, 2), (36, 2),
          (37, 3), (60, 1)]
FIRST_FLEXIBLE = {0: 9, 1: 12, 2: 6, 3: 9, 8: 8, 9: 6, 10: 3, 11: 6, 12: 4,
                  13: 4, 14: 4, 15: 5, 16: 3, 18: 3, 19: 5, 20: 4, 21: 2,
                  22: 2, 32: 4, 33: 2, 36: 2, 37: 2, 60: 0}


class W:
    def __init__(self, flexible):
        self.b = bytearray()
        self.flex = flexible

    def i8(self, v): self.b += struct.pack(">b", v); return self
    def i16(self, v): self.b += struct.pack(">h", v); return self
    def i32(self, v): self.b += struct.pack(">i", v); return self
    def i64(self, v): self.b += struct.pack(">q", v); return self

    def uvarint(self, v):
        while v >= 0x80:
            self.b.append((v & 0x7F) | 0x80)
            v >>= 7
        self.b.append(v)
        return self

    def string(self, s):
        if s is None:
            return self.uvarint(0) if self.flex else self.i16(-1)
        data = s.encode()
        if self.flex:
            self.uvarint(len(data) + 1)
        else:
            self.i16(len(data))
        self.b += data
        return self

    def array(self, items, fn):
        if self.flex:
            self.uvarint(len(items) + 1)
        else:
            self.i32(len(items))
        for item in items:
            fn(item)
        return self

    def tags(self):
        if self.flex:
            self.uvarint(0)
        return self


class R:
    def __init__(self, data):
        self.d = data
        self.p = 0

    def take(self, n):
        v = self.d[self.p:self.p + n]
        self.p += n
        return v

    def i16(self): return struct.unpack(">h", self.take(2))[0]
    def i32(self): return struct.unpack(">i", self.take(4))[0]

    def uvarint(self):
        v, shift = 0, 0
        while True:
            b = self.d[self.p]
            self.p += 1
            v |= (b & 0x7F) << shift
            if not b & 0x80:
                return v
            shift += 7

    def string(self, flex):
        n = self.uvarint() - 1 if flex else self.i16()
        return None if n < 0 else self.take(n).decode()

    def array(self, flex, fn):
        n = self.uvarint() - 1 if flex else self.i32()
        return None if n < 0 else [fn() for _ in range(n)]

    def skip_tags(self):
        for _ in range(self.uvarint()):
            self.uvarint()
            self.take(self.uvarint())


def metadata_topics(body, version, flex):
    r = R(body)
    def topic():
        if version >= 10:
            r.take(16)
        name = r.string(flex)
        if flex:
            r.skip_tags()
        return name
    names = r.array(flex, topic)
    return [n for n in (names or []) if n] or ["test"]


def produce_acks(body, version, flex):
    r = R(body)
    if version >= 3:
        r.string(flex)  # TransactionalId
    return r.i16()


def answer(key, version, body, port):
    flex = version >= FIRST_FLEXIBLE.get(key, 99)
    w = W(flex)
    if key == 18:
        w = W(version >= 3)
        w.i16(0 if version <= 3 else 35)
        served = SERVED if version <= 3 else [(18, 3)]
        w.array(served, lambda kv: (w.i16(kv[0]).i16(0).i16(kv[1]).tags()))
        if version >= 1:
            w.i32(0)
        return w.tags().b if version >= 3 else w.b
    if key == 3:
        topics = metadata_topics(body, version, flex)
        if version >= 3:
            w.i32(0)
        def broker(_):
            w.i32(0).string("127.0.0.1").i32(port)
            if version >= 1:
                w.string(None)
            w.tags()
        w.array([0], broker)
        if version >= 2:
            w.string("capture-cluster")
        if version >= 1:
            w.i32(0)
        def partition(_):
            w.i16(0).i32(0).i32(0)
            if version >= 7:
                w.i32(0)
            w.array([0], w.i32).array([0], w.i32)
            if version >= 5:
                w.array([], w.i32)
            w.tags()
        def topic(name):
            w.i16(0).string(name)
            if version >= 10:
                w.b += bytes(range(1, 17))
            if version >= 1:
                w.i8(0)
            w.array([0], partition)
            if version >= 8:
                w.i32(-2147483648)
            w.tags()
        w.array(topics, topic)
        if 8 <= version <= 10:
            w.i32(-2147483648)
        return w.tags().b
    if key == 10:
        if version >= 1:
            w.i32(0)
        if version <= 3:
            w.i16(0)
            if version >= 1:
                w.string(None)
            w.i32(0).string("127.0.0.1").i32(port)
        else:
            r = R(body)
            r.take(1)  # KeyType; v4 has no single Key
            keys = r.array(flex, lambda: r.string(flex)) or []
            w.array(keys, lambda k: (w.string(k).i32(0).string("127.0.0.1")
                                     .i32(port).i16(0).string(None).tags()))
        return w.tags().b
    if key == 22:
        w.i32(0).i16(0).i64(1000).i16(0)
        return w.tags().b
    if key == 0:
        def part(_):
            w.i32(0).i16(0).i64(0)
            if version >= 2:
                w.i64(-1)
            if version >= 5:
                w.i64(0)
            if version >= 8:
                w.array([], None).string(None)
            w.tags()
        w.array(["test"], lambda n: (w.string(n).array([0], part).tags()))
        if version >= 1:
            w.i32(0)
        return w.tags().b
    return None


def serve(conn, port, out_dir, seen, lock):
    buf = b""
    with conn:
        while True:
            try:
                chunk = conn.recv(1 << 20)
            except OSError:
                return
            if not chunk:
                return
            buf += chunk
            while len(buf) >= 4:
                size = struct.unpack(">i", buf[:4])[0]
                if len(buf) < 4 + size:
                    break
                frame, buf = buf[:4 + size], buf[4 + size:]
                r = R(frame[4:])
                key, version, corr = r.i16(), r.i16(), r.i32()
                client = r.string(False) or "none"
                flex = version >= FIRST_FLEXIBLE.get(key, 99)
                if flex and key in FIRST_FLEXIBLE:
                    r.skip_tags()
                body = frame[4 + r.p:]
                name = f"{client}-{API_NAMES.get(key, 'key%d' % key)}-v{version}.bin"
                with lock:
                    if name not in seen:
                        seen.add(name)
                        with open(os.path.join(out_dir, name), "wb") as f:
                            f.write(frame)
                        print("captured", name, flush=True)
                reply = answer(key, version, body, port)
                if reply is None:
                    continue
                header = struct.pack(">i", corr)
                if flex and key != 18:
                    header += b"\x00"
                payload = header + bytes(reply)
                if key == 0 and produce_acks(body, version, flex) == 0:
                    continue  # acks=0: Kafka sends no response
                conn.sendall(struct.pack(">i", len(payload)) + payload)


def main():
    port, out_dir = int(sys.argv[1]), sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    seen, lock = set(), threading.Lock()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(64)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn, port, out_dir, seen, lock),
                         daemon=True).start()


if __name__ == "__main__":
    main()
