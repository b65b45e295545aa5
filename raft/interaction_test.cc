// Scripted interaction tests with golden transcripts (in the style of etcd
// raft's testdata/*.txt). Each file under raft/testdata/ is a sequence of
// blocks:
//
//   command arg arg ...
//   ----
//   output lines (never empty: "ok" when there is nothing to show)
//   <blank line>
//
// Lines starting with '#' between blocks are comments. The runner executes
// every command on a TestCluster, rebuilds the whole file from the commands and
// their actual output, and fails on any difference. It runs each file twice and
// requires byte-identical transcripts (determinism).
//
// Regenerate the goldens (then READ them and check the Raft behaviour shown):
//   bazel run //raft:interaction_test -- --rewrite
// (runfiles are symlinks to the source files, so the rewrite lands in
// raft/testdata/).
//
// Commands:
//   add-nodes N [voters=(1,2,3)] [learners=(4)] [prevote=false]
//   [checkquorum=false]
//             [lease=true] [max-inflight=N] [max-bytes-per-msg=N] [tail=N]
//   campaign ID | propose ID DATA | propose-conf-change ID v4 l5 r3 [joint]
//   read-index ID CTX | transfer-leadership ID TO | tick ID [N]
//   process-ready ID... | deliver-msgs [ID...] | drop-msgs [from=ID] [to=ID]
//   stabilize | status ID | raft-log ID | isolate ID | heal | compact ID
//   restart ID
#include <cstdio>
#include <fstream>  // determinism-ok: test-only, reads and rewrites golden files
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "raft/test_cluster.h"

namespace chronik::raft {
namespace {

struct Block {
  std::vector<std::string> comments;  // lines before the command
  std::string command;
  std::string expected;
};

std::vector<Block> Parse(const std::string& text, std::string* trailing) {
  std::vector<Block> blocks;
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  Block current;
  size_t i = 0;
  while (i < lines.size()) {
    const std::string& line = lines[i];
    if (line.empty() || line[0] == '#') {
      current.comments.push_back(line);
      ++i;
      continue;
    }
    current.command = line;
    ++i;
    if (i < lines.size() && lines[i] == "----") ++i;
    std::string expected;
    while (i < lines.size() && !lines[i].empty()) {
      absl::StrAppend(&expected, lines[i], "\n");
      ++i;
    }
    current.expected = expected;
    blocks.push_back(std::move(current));
    current = Block();
    if (i < lines.size()) ++i;  // the blank line ending the block
  }
  // Comments after the last block (trailing newline handling aside).
  while (!current.comments.empty() && current.comments.back().empty()) {
    current.comments.pop_back();
  }
  *trailing = absl::StrJoin(current.comments, "\n");
  return blocks;
}

NodeId ParseId(const std::string& s) {
  NodeId id = 0;
  if (!absl::SimpleAtoi(s, &id)) return 0;
  return id;
}

std::vector<NodeId> ParseIdList(std::string s) {
  // "(1,2,3)"
  std::vector<NodeId> out;
  if (s.size() >= 2 && s.front() == '(' && s.back() == ')')
    s = s.substr(1, s.size() - 2);
  for (absl::string_view part : absl::StrSplit(s, ',', absl::SkipEmpty())) {
    out.push_back(ParseId(std::string(part)));
  }
  return out;
}

class Interpreter {
 public:
  std::string Run(const std::string& command) {
    std::vector<std::string> args =
        absl::StrSplit(command, ' ', absl::SkipEmpty());
    std::string out = Execute(args);
    if (cluster_ != nullptr) out = cluster_->TakeTranscript() + out;
    if (out.empty()) out = "ok\n";
    return out;
  }

 private:
  std::string Execute(const std::vector<std::string>& args) {
    const std::string& cmd = args[0];
    auto id_at = [&](size_t i) {
      return i < args.size() ? ParseId(args[i]) : 0;
    };
    if (cmd == "add-nodes") return AddNodes(args);
    if (cluster_ == nullptr) return "error: add-nodes first\n";
    TestCluster& c = *cluster_;
    auto node_ok = [&](NodeId id) { return id != 0 && HasNode(id); };
    if (cmd == "campaign") {
      if (!node_ok(id_at(1))) return "error: bad node\n";
      c.node(id_at(1)).Campaign();
      return "";
    }
    if (cmd == "propose") {
      if (!node_ok(id_at(1)) || args.size() < 3) return "error: usage\n";
      return StatusLine(c.node(id_at(1)).Propose(Bytes::Copy(args[2])));
    }
    if (cmd == "propose-conf-change") {
      if (!node_ok(id_at(1))) return "error: bad node\n";
      ConfChange cc;
      for (size_t i = 2; i < args.size(); ++i) {
        if (args[i] == "joint") {
          cc.joint = true;
          continue;
        }
        ConfChangeSingle single;
        single.type = args[i][0] == 'v'   ? ConfChangeType::kAddVoter
                      : args[i][0] == 'l' ? ConfChangeType::kAddLearner
                                          : ConfChangeType::kRemoveNode;
        single.node_id = ParseId(args[i].substr(1));
        cc.changes.push_back(single);
      }
      return StatusLine(c.node(id_at(1)).ProposeConfChange(cc));
    }
    if (cmd == "read-index") {
      if (!node_ok(id_at(1)) || args.size() < 3) return "error: usage\n";
      return StatusLine(c.node(id_at(1)).ReadIndex(Bytes::Copy(args[2])));
    }
    if (cmd == "transfer-leadership") {
      if (!node_ok(id_at(1))) return "error: bad node\n";
      return StatusLine(c.node(id_at(1)).TransferLeadership(id_at(2)));
    }
    if (cmd == "tick") {
      if (!node_ok(id_at(1))) return "error: bad node\n";
      int n = 1;
      if (args.size() > 2 && !absl::SimpleAtoi(args[2], &n))
        return "error: count\n";
      for (int i = 0; i < n; ++i) c.node(id_at(1)).Tick();
      return "";
    }
    if (cmd == "process-ready") {
      std::string out;
      for (size_t i = 1; i < args.size(); ++i) {
        if (!node_ok(id_at(i))) return "error: bad node\n";
        std::string t = c.ProcessReady(id_at(i));
        out += t.empty() ? absl::StrCat("> ", id_at(i), " has no Ready\n") : t;
      }
      return out;
    }
    if (cmd == "deliver-msgs") {
      if (args.size() == 1) return c.Deliver(0);
      std::string out;
      for (size_t i = 1; i < args.size(); ++i) out += c.Deliver(id_at(i));
      return out;
    }
    if (cmd == "drop-msgs") {
      NodeId from = 0;
      NodeId to = 0;
      for (size_t i = 1; i < args.size(); ++i) {
        if (args[i].rfind("from=", 0) == 0) from = ParseId(args[i].substr(5));
        if (args[i].rfind("to=", 0) == 0) to = ParseId(args[i].substr(3));
      }
      std::string out;
      c.Drop([&](const Message& m) {
        const bool drop =
            (from == 0 || m.from == from) && (to == 0 || m.to == to);
        if (drop) absl::StrAppend(&out, "dropped: ", DescribeMessage(m), "\n");
        return drop;
      });
      return out;
    }
    if (cmd == "stabilize") return c.Stabilize();
    if (cmd == "status") {
      if (!node_ok(id_at(1))) return "error: bad node\n";
      return c.node(id_at(1)).Status().ToString() + "\n";
    }
    if (cmd == "raft-log") {
      if (!node_ok(id_at(1))) return "error: bad node\n";
      const MemStorage& s = c.storage(id_at(1));
      std::string out;
      if (s.snapshot.metadata.index != 0) {
        absl::StrAppend(&out, "snapshot ", s.snapshot.metadata.term, "/",
                        s.snapshot.metadata.index, "\n");
      }
      for (const Entry& e : s.entries)
        absl::StrAppend(&out, DescribeEntry(e), "\n");
      absl::StrAppend(&out, "applied ", s.applied, "\n");
      return out;
    }
    if (cmd == "isolate") {
      if (!node_ok(id_at(1))) return "error: bad node\n";
      c.Isolate(id_at(1));
      return "";
    }
    if (cmd == "heal") {
      c.Heal();
      return "";
    }
    if (cmd == "compact") {
      if (!node_ok(id_at(1))) return "error: bad node\n";
      return c.Compact(id_at(1)) ? "" : "error: snapshot refused\n";
    }
    if (cmd == "restart") {
      if (!node_ok(id_at(1))) return "error: bad node\n";
      c.Restart(id_at(1));
      return "";
    }
    return absl::StrCat("error: unknown command ", cmd, "\n");
  }

  bool HasNode(NodeId id) const {
    for (NodeId n : cluster_->ids()) {
      if (n == id) return true;
    }
    return false;
  }

  static std::string StatusLine(const absl::Status& s) {
    if (s.ok()) return "";
    return absl::StrCat("error: ", s.ToString(), "\n");
  }

  std::string AddNodes(const std::vector<std::string>& args) {
    int n = 0;
    if (args.size() < 2 || !absl::SimpleAtoi(args[1], &n) || n <= 0) {
      return "error: add-nodes N\n";
    }
    std::vector<NodeId> voters;
    std::vector<NodeId> learners;
    for (size_t i = 2; i < args.size(); ++i) {
      std::vector<std::string> kv =
          absl::StrSplit(args[i], absl::MaxSplits('=', 1));
      if (kv.size() != 2) return "error: key=value\n";
      const std::string& k = kv[0];
      const std::string& v = kv[1];
      uint64_t number = 0;
      const bool numeric = absl::SimpleAtoi(v, &number);
      if (k == "voters") {
        voters = ParseIdList(v);
      } else if (k == "learners") {
        learners = ParseIdList(v);
      } else if (k == "prevote") {
        options_.pre_vote = v == "true";
      } else if (k == "checkquorum") {
        options_.check_quorum = v == "true";
      } else if (k == "lease") {
        options_.read_only_option =
            v == "true" ? ReadOnlyOption::kLease : ReadOnlyOption::kSafe;
      } else if (k == "max-inflight" && numeric) {
        options_.max_inflight_msgs = number;
      } else if (k == "max-bytes-per-msg" && numeric) {
        options_.max_entries_bytes_per_msg = number;
      } else if (k == "tail" && numeric) {
        options_.max_log_tail_entries = number;
      } else {
        return absl::StrCat("error: unknown option ", args[i], "\n");
      }
    }
    if (cluster_ == nullptr) {
      Config* options = &options_;
      cluster_ = std::make_unique<TestCluster>(0, [options](Config& c) {
        c.pre_vote = options->pre_vote;
        c.check_quorum = options->check_quorum;
        c.read_only_option = options->read_only_option;
        c.max_inflight_msgs = options->max_inflight_msgs;
        c.max_entries_bytes_per_msg = options->max_entries_bytes_per_msg;
        c.max_log_tail_entries = options->max_log_tail_entries;
      });
    }
    NodeId next = 1;
    for (NodeId id : cluster_->ids()) next = std::max(next, id + 1);
    std::string out;
    for (int i = 0; i < n; ++i) {
      cluster_->AddNode(next + i, voters, learners);
      absl::StrAppend(
          &out, "INFO ", next + i, " added: voters=(",
          absl::StrJoin(voters, " "), ")",
          learners.empty()
              ? ""
              : absl::StrCat(" learners=(", absl::StrJoin(learners, " "), ")"),
          "\n");
    }
    return out;
  }

  Config options_;
  std::unique_ptr<TestCluster> cluster_;
};

std::string Render(const std::vector<Block>& blocks,
                   const std::vector<std::string>& outputs,
                   const std::string& trailing) {
  std::string out;
  for (size_t i = 0; i < blocks.size(); ++i) {
    for (const std::string& c : blocks[i].comments)
      absl::StrAppend(&out, c, "\n");
    absl::StrAppend(&out, blocks[i].command, "\n----\n", outputs[i], "\n");
  }
  if (!trailing.empty()) absl::StrAppend(&out, trailing, "\n");
  return out;
}

std::string RunScript(const std::vector<Block>& blocks,
                      const std::string& trailing) {
  Interpreter interpreter;
  std::vector<std::string> outputs;
  for (const Block& b : blocks) outputs.push_back(interpreter.Run(b.command));
  return Render(blocks, outputs, trailing);
}

std::string FirstDifference(const std::string& want, const std::string& got) {
  std::vector<std::string> a = absl::StrSplit(want, '\n');
  std::vector<std::string> b = absl::StrSplit(got, '\n');
  for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
    const std::string x = i < a.size() ? a[i] : "<eof>";
    const std::string y = i < b.size() ? b[i] : "<eof>";
    if (x != y) {
      return absl::StrCat("line ", i + 1, ":\n  want: ", x, "\n  got:  ", y);
    }
  }
  return "identical";
}

int Main(int argc, char** argv) {
  bool rewrite = false;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--rewrite") {
      rewrite = true;
    } else {
      files.push_back(arg);
    }
  }
  if (files.empty()) {
    std::cerr << "no testdata files given\n";
    return 1;
  }
  int failures = 0;
  for (const std::string& file : files) {
    std::ifstream in(file);  // determinism-ok: test-only golden file
    if (!in) {
      std::cerr << file << ": cannot read\n";
      ++failures;
      continue;
    }
    std::stringstream buffer;
    buffer << in.rdbuf();
    const std::string original = buffer.str();
    std::string trailing;
    std::vector<Block> blocks = Parse(original, &trailing);
    const std::string first = RunScript(blocks, trailing);
    const std::string second = RunScript(blocks, trailing);
    if (first != second) {
      std::cerr << file
                << ": NOT DETERMINISTIC: " << FirstDifference(first, second)
                << "\n";
      ++failures;
      continue;
    }
    if (rewrite) {
      std::ofstream out(file);  // determinism-ok: test-only golden rewrite
      out << first;
      std::cout << file << ": rewritten (" << blocks.size() << " commands)\n";
      continue;
    }
    if (first != original) {
      std::cerr << file << ": MISMATCH at " << FirstDifference(original, first)
                << "\n";
      ++failures;
    } else {
      std::cout << file << ": ok (" << blocks.size()
                << " commands, deterministic)\n";
    }
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace chronik::raft

int main(int argc, char** argv) { return chronik::raft::Main(argc, argv); }
