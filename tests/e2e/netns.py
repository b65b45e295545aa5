"""Network namespaces for end-to-end tests: one per broker, joined by a
bridge in the root namespace, and partitions between them (needs root).

Layout of a run with pid P and N nodes (every name carries P, so parallel
runs do not clash; what a run killed before its cleanup left behind is
removed by the next run):

  root namespace:  bridge cnmPb, address 10.77.S.254/24 (the clients' side)
  node i:          namespace chronik-nem-P-i, eth0 = 10.77.S.(i+1)/24,
                   whose veth peer cnmPh<i> is a port of the bridge

S is a free /24 of 10.77.0.0/16, picked under a lock file. A cut between
nodes a and b is a policy rule in a's namespace that drops (blackholes)
whatever arrives from b, and the same in b's for a: packets between them
vanish silently on arrival, as on a broken link (a blackhole *route* would
instead fail the sender's connect at once with EINVAL), while the root
namespace (the clients) still reaches both. The rules sit before the `local`
table's lookup, which each namespace moves from priority 0 to 1000 for that.
Nothing but iproute2 is used.
"""

import fcntl
import os
import re
import shutil
import signal
import subprocess

NETNS_PREFIX = "chronik-nem-"
LINK_PREFIX = "cnm"
LOCK_PATH = "/tmp/chronik-netns.lock"
_NETNS_NAME = re.compile(r"^%s(\d+)-\w+$" % NETNS_PREFIX)
_LINK_NAME = re.compile(r"^%s(\d+)[bh]\d*$" % LINK_PREFIX)


def ip(*args, check=True, netns=None):
    """Runs `ip ARGS` (inside `netns` if given); returns its stdout."""
    cmd = ["ip"] + (["-n", netns] if netns else []) + list(args)
    result = subprocess.run(cmd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, timeout=20)
    if check and result.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(cmd),
                                                 result.returncode,
                                                 result.stderr.decode()))
    return result.stdout.decode()


def unavailable_reason():
    """Why namespaces cannot be made here, or None when they can."""
    if os.geteuid() != 0:
        return "not root (euid %d): network namespaces need root" % (
            os.geteuid())
    if shutil.which("ip") is None:
        return "no `ip` command (iproute2)"
    probe = "%s%d-probe" % (NETNS_PREFIX, os.getpid())
    try:
        ip("netns", "add", probe)
        ip("link", "set", "lo", "up", netns=probe)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as error:
        return "`ip netns` does not work here: %s" % error
    finally:
        ip("netns", "del", probe, check=False)
    return None


def _owner_alive(pid):
    """Whether `pid` is a live process of this suite (not a reused pid)."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return b"nemesis_test" in f.read() or pid == os.getpid()
    except OSError:
        return False


def cleanup_stale():
    """Removes namespaces and links of runs whose process is gone, killing
    brokers still running inside them. Returns what was removed."""
    removed = []
    for line in ip("netns", "list", check=False).splitlines():
        name = line.split()[0] if line.split() else ""
        match = _NETNS_NAME.match(name)
        if match and not _owner_alive(int(match.group(1))):
            for pid in ip("netns", "pids", name, check=False).split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            ip("netns", "del", name, check=False)
            removed.append(name)
    for line in ip("-o", "link", "show", check=False).splitlines():
        name = line.split(":")[1].strip().split("@")[0] if ":" in line else ""
        match = _LINK_NAME.match(name)
        if match and not _owner_alive(int(match.group(1))):
            ip("link", "del", name, check=False)
            removed.append(name)
    return removed


class Network:
    """N namespaces on one bridge; see the module docstring."""

    def __init__(self, count):
        self.pid = os.getpid()
        self.count = count
        self.names = ["%s%d-%d" % (NETNS_PREFIX, self.pid, i)
                      for i in range(count)]
        self.bridge = "%s%db" % (LINK_PREFIX, self.pid)
        self.subnet = None  # third octet S of 10.77.S.0/24
        self.cuts = set()  # frozensets {a, b} currently cut

    def address(self, node):
        return "10.77.%d.%d" % (self.subnet, node + 1)

    def exec_prefix(self, node):
        return ["ip", "netns", "exec", self.names[node]]

    def setup(self):
        # The lock makes picking a free /24 and taking it one step.
        with open(LOCK_PATH, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self.subnet = self._free_subnet()
            ip("link", "add", self.bridge, "type", "bridge")
            ip("addr", "add", "10.77.%d.254/24" % self.subnet, "dev",
               self.bridge)
            ip("link", "set", self.bridge, "up")
        for node, name in enumerate(self.names):
            host_end = "%s%dh%d" % (LINK_PREFIX, self.pid, node)
            ip("netns", "add", name)
            ip("link", "add", host_end, "type", "veth", "peer", "name", "eth0",
               "netns", name)
            ip("link", "set", host_end, "master", self.bridge)
            ip("link", "set", host_end, "up")
            ip("link", "set", "lo", "up", netns=name)
            ip("addr", "add", self.address(node) + "/24", "dev", "eth0",
               netns=name)
            ip("link", "set", "eth0", "up", netns=name)
            # Room for the cut rules before the local table (see above).
            ip("rule", "add", "pref", "1000", "lookup", "local", netns=name)
            ip("rule", "del", "pref", "0", "lookup", "local", netns=name)

    def _free_subnet(self):
        used = ip("-4", "-o", "addr", "show") + ip("-4", "route", "show")
        for step in range(250):
            candidate = (self.pid + step) % 250 + 1
            if "10.77.%d." % candidate not in used:
                return candidate
        raise RuntimeError("no free /24 in 10.77.0.0/16")

    def _drop_rules(self, verb, a, b):
        for here, there in ((a, b), (b, a)):
            ip("rule", verb, "pref", "100", "from", self.address(there),
               "iif", "eth0", "blackhole", netns=self.names[here])

    def cut(self, a, b):
        """Nodes a and b stop hearing each other (both directions)."""
        if frozenset((a, b)) not in self.cuts:
            self._drop_rules("add", a, b)
            self.cuts.add(frozenset((a, b)))

    def isolate(self, node):
        """`node` reaches none of its peers; clients still reach it."""
        for other in range(self.count):
            if other != node:
                self.cut(node, other)

    def heal(self):
        for pair in sorted(self.cuts, key=sorted):
            a, b = sorted(pair)
            self._drop_rules("del", a, b)
        self.cuts.clear()

    def teardown(self):
        """Kills whatever still runs in the namespaces and removes them and
        the bridge (the veths go with their namespaces). Never raises."""
        for name in self.names:
            for pid in ip("netns", "pids", name, check=False).split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            ip("netns", "del", name, check=False)
        ip("link", "del", self.bridge, check=False)
