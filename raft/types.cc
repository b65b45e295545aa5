#include "raft/types.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/check.h"

namespace chronik::raft {
namespace {

constexpr uint8_t kConfChangeVersion = 1;
constexpr uint8_t kConfChangeFlagJoint = 1;
constexpr size_t kConfChangeHeaderBytes = 1 + 1 + 4;
constexpr size_t kConfChangeItemBytes = 1 + 8;

void PutFixed(std::string* out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i)
    out->push_back(static_cast<char>(value >> (8 * i)));
}

uint64_t GetFixed(std::string_view in, int bytes) {
  uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) {
    value |= static_cast<uint64_t>(static_cast<uint8_t>(in[i])) << (8 * i);
  }
  return value;
}

}  // namespace

Bytes EncodeConfChange(const ConfChange& change) {
  CHRONIK_CHECK_LE(change.changes.size(), kMaxConfChangeItems);
  std::string out;
  out.reserve(kConfChangeHeaderBytes +
              kConfChangeItemBytes * change.changes.size() +
              change.context.size());
  out.push_back(static_cast<char>(kConfChangeVersion));
  out.push_back(static_cast<char>(change.joint ? kConfChangeFlagJoint : 0));
  PutFixed(&out, change.changes.size(), 4);
  for (const ConfChangeSingle& single : change.changes) {
    out.push_back(static_cast<char>(single.type));
    PutFixed(&out, single.node_id, 8);
  }
  out.append(change.context.view());
  return Bytes::Own(std::move(out));
}

absl::StatusOr<ConfChange> DecodeConfChange(std::string_view data) {
  if (data.size() < kConfChangeHeaderBytes ||
      static_cast<uint8_t>(data[0]) != kConfChangeVersion) {
    return absl::InvalidArgumentError("conf change: bad header");
  }
  ConfChange change;
  change.joint = (static_cast<uint8_t>(data[1]) & kConfChangeFlagJoint) != 0;
  const uint64_t count = GetFixed(data.substr(2), 4);
  if (count > kMaxConfChangeItems ||
      data.size() < kConfChangeHeaderBytes + count * kConfChangeItemBytes) {
    return absl::InvalidArgumentError("conf change: bad change count");
  }
  size_t offset = kConfChangeHeaderBytes;
  for (uint64_t i = 0; i < count; ++i) {
    const uint8_t type = static_cast<uint8_t>(data[offset]);
    if (type > static_cast<uint8_t>(ConfChangeType::kAddLearner)) {
      return absl::InvalidArgumentError("conf change: bad change type");
    }
    change.changes.push_back({static_cast<ConfChangeType>(type),
                              GetFixed(data.substr(offset + 1), 8)});
    offset += kConfChangeItemBytes;
  }
  change.context = Bytes::Copy(data.substr(offset));
  return change;
}

const char* MessageTypeName(MessageType type) {
  switch (type) {
    case MessageType::kUnspecified:
      return "Unspecified";
    case MessageType::kAppend:
      return "App";
    case MessageType::kAppendResponse:
      return "AppResp";
    case MessageType::kVote:
      return "Vote";
    case MessageType::kVoteResponse:
      return "VoteResp";
    case MessageType::kPreVote:
      return "PreVote";
    case MessageType::kPreVoteResponse:
      return "PreVoteResp";
    case MessageType::kHeartbeat:
      return "Heartbeat";
    case MessageType::kHeartbeatResponse:
      return "HeartbeatResp";
    case MessageType::kSnapshot:
      return "Snap";
    case MessageType::kTimeoutNow:
      return "TimeoutNow";
    case MessageType::kReadIndex:
      return "ReadIndex";
    case MessageType::kReadIndexResponse:
      return "ReadIndexResp";
    case MessageType::kTransferLeader:
      return "TransferLeader";
    case MessageType::kForwardProposal:
      return "ForwardProposal";
    case MessageType::kWake:
      return "Wake";
    case MessageType::kNodeHeartbeat:
      return "NodeHeartbeat";
  }
  return "?";
}

const char* RoleName(Role role) {
  switch (role) {
    case Role::kFollower:
      return "follower";
    case Role::kPreCandidate:
      return "pre-candidate";
    case Role::kCandidate:
      return "candidate";
    case Role::kLeader:
      return "leader";
  }
  return "?";
}

const char* ProgressStateName(ProgressState state) {
  switch (state) {
    case ProgressState::kProbe:
      return "probe";
    case ProgressState::kReplicate:
      return "replicate";
    case ProgressState::kSnapshot:
      return "snapshot";
  }
  return "?";
}

std::string DescribeEntry(const Entry& entry) {
  std::string out = absl::StrCat(entry.term, "/", entry.index);
  if (entry.type == EntryType::kConfChange) {
    absl::StatusOr<ConfChange> change = DecodeConfChange(entry.data.view());
    if (!change.ok()) return absl::StrCat(out, " conf?");
    if (change->changes.empty()) return absl::StrCat(out, " conf:leave-joint");
    std::vector<std::string> parts;
    for (const ConfChangeSingle& single : change->changes) {
      const char* kind = single.type == ConfChangeType::kAddVoter     ? "v"
                         : single.type == ConfChangeType::kAddLearner ? "l"
                                                                      : "r";
      parts.push_back(absl::StrCat(kind, single.node_id));
    }
    return absl::StrCat(out, " conf:", change->joint ? "joint:" : "",
                        absl::StrJoin(parts, ","));
  }
  if (entry.data.empty()) return absl::StrCat(out, " EntryNormal \"\"");
  constexpr size_t kMaxShownBytes = 16;
  std::string_view shown = entry.data.view().substr(0, kMaxShownBytes);
  return absl::StrCat(out, " EntryNormal \"",
                      absl::string_view(shown.data(), shown.size()),
                      entry.data.size() > kMaxShownBytes ? "...\"" : "\"");
}

std::string DescribeMessage(const Message& m) {
  std::string out =
      absl::StrCat(m.from, "->", m.to, " ", MessageTypeName(m.type),
                   " Term:", m.term, " Log:", m.log_term, "/", m.index);
  if (m.commit != 0 || m.type == MessageType::kAppend ||
      m.type == MessageType::kHeartbeat) {
    absl::StrAppend(&out, " Commit:", m.commit);
  }
  if (m.reject) {
    absl::StrAppend(&out, " Rejected (Hint: ", m.reject_hint);
    if (m.hint_term != 0) absl::StrAppend(&out, " HintTerm: ", m.hint_term);
    absl::StrAppend(&out, ")");
  }
  if (m.quiesce) absl::StrAppend(&out, " Quiesce");
  if (!m.context.empty())
    absl::StrAppend(&out, " Context:", std::string(m.context.view()));
  if (!m.entries.empty()) {
    std::vector<std::string> parts;
    for (const Entry& entry : m.entries) parts.push_back(DescribeEntry(entry));
    absl::StrAppend(&out, " Entries:[", absl::StrJoin(parts, ", "), "]");
  }
  if (m.snapshot != nullptr) {
    absl::StrAppend(&out, " Snapshot: Index:", m.snapshot->metadata.index,
                    " Term:", m.snapshot->metadata.term, " ",
                    DescribeConfState(m.snapshot->metadata.conf_state));
  }
  return out;
}

std::string DescribeHardState(const HardState& hs) {
  return absl::StrCat("Term:", hs.term, " Vote:", hs.vote,
                      " Commit:", hs.commit);
}

std::string DescribeConfState(const ConfState& cs) {
  std::string out =
      absl::StrCat("voters=(", absl::StrJoin(cs.voters, " "), ")");
  if (!cs.voters_outgoing.empty()) {
    absl::StrAppend(&out, "&&(", absl::StrJoin(cs.voters_outgoing, " "), ")");
  }
  if (!cs.learners.empty()) {
    absl::StrAppend(&out, " learners=(", absl::StrJoin(cs.learners, " "), ")");
  }
  if (!cs.learners_next.empty()) {
    absl::StrAppend(&out, " learners_next=(",
                    absl::StrJoin(cs.learners_next, " "), ")");
  }
  if (cs.auto_leave) absl::StrAppend(&out, " autoleave");
  return out;
}

std::string NodeStatus::ToString() const {
  std::string out = absl::StrCat(
      id, " ", RoleName(role), " ", DescribeHardState(hard_state),
      " Lead:", leader, " Applied:", applied, " Persisted:", persisted,
      " Last:", last_index, " Snap:", snapshot_index, " ",
      DescribeConfState(conf_state));
  if (transferee != kNoNode) absl::StrAppend(&out, " Transferee:", transferee);
  for (const ProgressStatus& p : progress) {
    absl::StrAppend(&out, "\n  ", p.id, ": ", ProgressStateName(p.state),
                    p.is_learner ? " learner" : "", " match=", p.match,
                    " next=", p.next);
    if (p.inflight_msgs != 0) {
      absl::StrAppend(&out, " inflight=", p.inflight_msgs, "/",
                      p.inflight_bytes, "B");
    }
    if (p.pending_snapshot != 0) {
      absl::StrAppend(&out, " pending_snap=", p.pending_snapshot);
    }
    if (p.log_read_pending) absl::StrAppend(&out, " reading");
    if (!p.recent_active) absl::StrAppend(&out, " inactive");
  }
  return out;
}

}  // namespace chronik::raft
