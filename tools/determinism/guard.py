#!/usr/bin/env python3
"""Determinism guard: fails when deterministic code reaches the OS directly.

Everything outside broker/runtime/ (the production driver), tools/ and tests/e2e/ runs
under the simulator, which can only control what goes through the environment
interfaces (clock and timers, transport, disk, ports, seeded randomness). A direct call
to the clock, a thread, sleep, OS randomness, a file or a socket makes a seed replay
differently, so it is banned here. The one list of banned names, with the reason for
each, is BANNED below.

A line may carry `// determinism-ok: <reason>` to allow one use that cannot leak into
an output (say why). Usage: guard.py [ROOT]  (default: the repository this file is in).
Exit status 0 when clean, 1 with one line per finding otherwise.
"""
import os
import re
import sys

# (regular expression, reason). Matched against code with // comments removed.
BANNED = [
    (r"std::chrono::(system_clock|steady_clock|high_resolution_clock|utc_clock|file_clock)",
     "wall/steady clock: use the node's Clock interface (simulated time)"),
    (r"absl::(Now|GetCurrentTimeNanos|SleepFor)\b",
     "wall clock or sleep: use the Clock/timer interface"),
    (r"(?<![\w.>:])(time|gettimeofday|clock_gettime|clock|localtime|gmtime)\s*\(",
     "C clock call: use the Clock interface"),
    (r"(?<![\w.>:])(sleep|usleep|nanosleep)\s*\(",
     "sleeping: schedule a timer instead"),
    (r"std::this_thread|std::j?thread\b|std::async\b|\bpthread_\w+\s*\(",
     "threads: deterministic code is single-threaded; threads live in broker/runtime"),
    (r"std::random_device|(?<![\w.>:])s?rand\s*\(|(?<![\w.>:])random\s*\(|\barc4random|\bgetrandom\s*\(|/dev/u?random",
     "OS or unseeded randomness: use the seeded generator passed in"),
    (r"absl::(BitGen|InsecureBitGen)\b",
     "absl generators seed themselves from the OS: use the seeded generator passed in"),
    (r"std::(i|o)?fstream|std::filesystem|(?<![\w.>:])(fopen|freopen|opendir|mkdir|unlink|fsync|fdatasync)\s*\(|(?<![\w.>])::(open|read|write|pread|pwrite|close|rename)\s*\(",
     "direct file access: use the Disk interface"),
    (r"(?<![\w.>:])(socket|bind|listen|accept4?|connect|getaddrinfo|epoll_\w+)\s*\(|#include\s*<(sys/socket|netinet/\w+|arpa/inet)\.h>",
     "direct socket access: use the transport/listener interfaces"),
    (r"#include\s*<grpcpp/|grpc::",
     "gRPC is the production transport: only broker/runtime may use it"),
    (r"(?<![\w.>:])(getenv|secure_getenv)\s*\(|\benviron\b",
     "environment variables: configuration is parsed in broker/runtime and passed in"),
]

GUARDED_DIRS = ["base", "raft", "sim", "broker", "proto", "tests"]
EXEMPT_PREFIXES = ["broker/runtime/", "tests/e2e/"]
SOURCE_SUFFIXES = (".h", ".cc", ".hpp", ".cpp", ".inc")
ALLOW_MARKER = "determinism-ok:"
COMPILED = [(re.compile(pattern), reason) for pattern, reason in BANNED]


def strip_comment(line):
    """Removes a // comment (not inside a string literal) so prose can name banned calls."""
    in_string = False
    i = 0
    while i < len(line):
        c = line[i]
        if c == "\\" and in_string:
            i += 2
            continue
        if c == '"':
            in_string = not in_string
        elif not in_string and line.startswith("//", i):
            return line[:i]
        i += 1
    return line


def scan_file(path, relative):
    findings = []
    in_block_comment = False
    with open(path, encoding="utf-8", errors="replace") as source:
        for number, line in enumerate(source, start=1):
            if ALLOW_MARKER in line:
                continue
            code = line
            if in_block_comment:
                end = code.find("*/")
                if end < 0:
                    continue
                code = code[end + 2:]
                in_block_comment = False
            code = re.sub(r"/\*.*?\*/", "", code)
            start = code.find("/*")
            if start >= 0:
                code = code[:start]
                in_block_comment = True
            code = strip_comment(code)
            for pattern, reason in COMPILED:
                match = pattern.search(code)
                if match:
                    findings.append(f"{relative}:{number}: '{match.group(0).strip()}': {reason}")
    return findings


def scan(root):
    findings = []
    for top in GUARDED_DIRS:
        base = os.path.join(root, top)
        if not os.path.isdir(base):
            continue
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames.sort()
            for name in sorted(filenames):
                path = os.path.join(dirpath, name)
                relative = os.path.relpath(path, root)
                if not name.endswith(SOURCE_SUFFIXES):
                    continue
                if any(relative.startswith(prefix) for prefix in EXEMPT_PREFIXES):
                    continue
                findings.extend(scan_file(path, relative))
    return findings


def main(argv):
    root = argv[1] if len(argv) > 1 else os.path.dirname(
        os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
    if not os.path.isdir(os.path.join(root, "raft")) and not os.path.isdir(os.path.join(root, "broker")):
        print(f"determinism guard: {root} does not look like the chronik repository", file=sys.stderr)
        return 2
    findings = scan(root)
    for finding in findings:
        print(finding)
    if findings:
        print(f"determinism guard: {len(findings)} finding(s) in code the simulator must control")
        return 1
    print(f"determinism guard: clean ({root})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
