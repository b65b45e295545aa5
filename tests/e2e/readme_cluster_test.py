"""The README's one-host three-node cluster, run as written.

The commands come from README.md between the one-host-cluster:begin/end
markers, so the documentation cannot rot: the cluster file is written by the
README's heredoc, the three nodes start from its command lines, and its
readiness loop and kcat commands run as they are. Only two things are
substituted: the binary path (bazel-bin/broker/chronik-server, the README's
build output, becomes the binary of this test's data dependency) and each of
the README's port numbers, which maps one-to-one to a free port (other tests
and agents share the machine's fixed ports). A port the README leaves
implicit (a default, e.g. the shared default HTTP port of issue 12) is not
substituted, so a README that relies on defaults fails here as it would for a
user.

The README's next block (add-broker:begin/end) then runs on the same cluster:
a fourth node joins with --join, kafkajs moves a partition onto it, broker 0
is decommissioned with curl. Its kafkajs path (tests/e2e/js/node_modules, as
tools/setup installs it) becomes this test's data dependency's.
"""

import os
import re
import signal
import subprocess
import tempfile
import time

import harness
from harness import free_port

README = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                      "README.md")
BEGIN = "<!-- one-host-cluster:begin -->"
END = "<!-- one-host-cluster:end -->"
ADD_BEGIN = "<!-- add-broker:begin -->"
ADD_END = "<!-- add-broker:end -->"
README_BINARY = "bazel-bin/broker/chronik-server"
README_NODE_MODULES = "tests/e2e/js/node_modules"
NODE_MODULES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "js",
                            "node_modules")


def readme_commands(begin=BEGIN, end=END):
    """The shell commands of the README's block between the markers `begin`
    and `end` (a heredoc is one command)."""
    with open(README) as f:
        text = f.read()
    block = text[text.index(begin) + len(begin):text.index(end)]
    lines = block.strip().splitlines()
    assert lines[0].startswith("```") and lines[-1] == "```", lines
    commands = []
    terminator = None
    for line in lines[1:-1]:
        if terminator is not None:
            commands[-1] += "\n" + line
            if line == terminator:
                terminator = None
            continue
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        commands.append(line)
        heredoc = re.search(r"<<'?(\w+)'?", line)
        if heredoc:
            terminator = heredoc.group(1)
    return commands


class ReadmeClusterTest(harness.unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="readme-", dir=harness.TMP)
        self.servers = []  # (command, Popen, log path)

    def tearDown(self):
        for _, proc, _ in self.servers:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    def logs(self):
        out = []
        for command, _, path in self.servers:
            with open(path, "rb") as f:
                out.append("== %s\n%s" % (command, f.read().decode(
                    "utf-8", "replace")[-3000:]))
        return "\n".join(out)

    def substitute(self, commands):
        text = "\n".join(commands)
        ports = sorted(set(int(p) for p in re.findall(r"\b(9\d\d\d)\b", text)))
        mapping = {p: free_port() for p in ports}
        self.assertGreaterEqual(len(mapping), 9, "3 nodes x 3 ports: %s" % ports)
        return [re.sub(r"\b(9\d\d\d)\b",
                       lambda m: str(mapping[int(m.group(1))]),
                       c.replace(README_BINARY, harness.SERVER).replace(
                           README_NODE_MODULES, NODE_MODULES))
                for c in commands]

    def run_foreground(self, command, timeout_s=60):
        output_file = tempfile.TemporaryFile(dir=self.dir)
        self.addCleanup(output_file.close)
        proc = subprocess.Popen(["bash", "-c", command], cwd=self.dir,
                                stdout=output_file, stderr=subprocess.STDOUT)
        deadline = time.time() + timeout_s
        while proc.poll() is None:
            for server_command, server, _ in self.servers:
                if server.poll() is not None:
                    proc.kill()
                    self.fail("node exited %s: %s\n%s" % (
                        server.returncode, server_command, self.logs()))
            if time.time() > deadline:
                proc.kill()
                self.fail("%r still running after %ss\n%s" %
                          (command, timeout_s, self.logs()))
            time.sleep(0.1)
        output_file.seek(0)
        output = output_file.read().decode("utf-8", "replace")
        self.assertEqual(proc.returncode, 0, "%r failed:\n%s\n%s" %
                         (command, output, self.logs()))
        return output

    def run_commands(self, commands):
        """Runs the commands in order (a trailing & starts a node); returns
        the foreground commands' outputs."""
        outputs = []
        for command in commands:
            if command.endswith("&"):
                path = os.path.join(self.dir, "node%d.log" % len(self.servers))
                with open(path, "wb") as log:
                    # bash -c execs a single command: the pid is the node's.
                    proc = subprocess.Popen(
                        ["bash", "-c", command[:-1].strip()], cwd=self.dir,
                        stdout=log, stderr=log)
                self.servers.append((command, proc, path))
            else:
                outputs.append(self.run_foreground(command))
        return outputs

    def test_readme_one_host_cluster_commands_work(self):
        commands = readme_commands()
        adding = readme_commands(ADD_BEGIN, ADD_END)
        self.assertTrue(any(README_BINARY in c for c in commands))
        self.assertTrue(any("--join true" in c for c in adding))
        substituted = self.substitute(commands + adding)
        outputs = self.run_commands(substituted[:len(commands)])
        self.assertEqual(len(self.servers), 3)
        listing = "\n".join(outputs)
        self.assertIn("3 brokers", listing)
        for node in (0, 1, 2):
            self.assertRegex(listing, r"broker %d at 127\.0\.0\.1:\d+" % node)
        self.assertEqual(outputs[-1].strip().splitlines()[-1], "hello",
                         "the consumer read what the producer wrote")

        # Adding node 3, moving demo-0 onto it, decommissioning broker 0.
        outputs = "\n".join(self.run_commands(substituted[len(commands):]))
        self.assertEqual(len(self.servers), 4)
        self.assertIn("'voters': [0, 1, 2, 3], 'learners': []", outputs)
        self.assertIn("demo-0 replicas [3,0,1]", outputs)
        self.assertIn('"removed":true', outputs)
        listing = outputs[outputs.rindex("Metadata for"):]
        self.assertIn("3 brokers", listing)
        for node in (1, 2, 3):
            self.assertRegex(listing, r"broker %d at 127\.0\.0\.1:\d+" % node)
        self.assertNotIn("broker 0 at", listing)
        self.assertRegex(listing, r"partition 0, leader \d, replicas: 3,2,1,")
        for command, proc, _ in self.servers:
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(timeout=10), 0,
                             "%s\n%s" % (command, self.logs()))


if __name__ == "__main__":
    harness.main()
