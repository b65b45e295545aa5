#include "raft/wire.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace chronik::raft {
namespace {

void IdsToProto(const std::vector<NodeId>& ids,
                google::protobuf::RepeatedField<uint64_t>* out) {
  for (NodeId id : ids) out->Add(id);
}

std::vector<NodeId> IdsFromProto(
    const google::protobuf::RepeatedField<uint64_t>& in) {
  return std::vector<NodeId>(in.begin(), in.end());
}

void EntryToProto(const Entry& e, raftpb::Entry* out) {
  out->set_term(e.term);
  out->set_index(e.index);
  out->set_type(e.type == EntryType::kConfChange ? raftpb::ENTRY_CONF_CHANGE
                                                 : raftpb::ENTRY_NORMAL);
  out->set_data(e.data.data(), e.data.size());
}

}  // namespace

void ToProto(const HardState& hs, raftpb::HardState* out) {
  out->set_term(hs.term);
  out->set_vote(hs.vote);
  out->set_commit(hs.commit);
}

HardState FromProto(const raftpb::HardState& in) {
  return HardState{in.term(), in.vote(), in.commit()};
}

void ToProto(const ConfState& cs, raftpb::ConfState* out) {
  IdsToProto(cs.voters, out->mutable_voters());
  IdsToProto(cs.learners, out->mutable_learners());
  IdsToProto(cs.voters_outgoing, out->mutable_voters_outgoing());
  IdsToProto(cs.learners_next, out->mutable_learners_next());
  out->set_auto_leave(cs.auto_leave);
}

ConfState FromProto(const raftpb::ConfState& in) {
  ConfState cs;
  cs.voters = IdsFromProto(in.voters());
  cs.learners = IdsFromProto(in.learners());
  cs.voters_outgoing = IdsFromProto(in.voters_outgoing());
  cs.learners_next = IdsFromProto(in.learners_next());
  cs.auto_leave = in.auto_leave();
  return cs;
}

void ToProto(const Message& m, uint64_t group_id, raftpb::Message* out) {
  out->set_group_id(group_id);
  out->set_type(static_cast<raftpb::MessageType>(m.type));
  out->set_from(m.from);
  out->set_to(m.to);
  out->set_term(m.term);
  out->set_log_term(m.log_term);
  out->set_index(m.index);
  out->mutable_entries()->Reserve(static_cast<int>(m.entries.size()));
  for (const Entry& e : m.entries) EntryToProto(e, out->add_entries());
  out->set_commit(m.commit);
  if (m.snapshot != nullptr) {
    raftpb::Snapshot* s = out->mutable_snapshot();
    ToProto(m.snapshot->metadata.conf_state,
            s->mutable_metadata()->mutable_conf_state());
    s->mutable_metadata()->set_index(m.snapshot->metadata.index);
    s->mutable_metadata()->set_term(m.snapshot->metadata.term);
    s->set_data(m.snapshot->data.data(), m.snapshot->data.size());
  }
  out->set_reject(m.reject);
  out->set_reject_hint(m.reject_hint);
  out->set_hint_term(m.hint_term);
  out->set_context(m.context.data(), m.context.size());
  out->set_quiesce(m.quiesce);
}

absl::StatusOr<WireMessage> FromProto(const raftpb::Message& in) {
  if (in.type() <= raftpb::MSG_UNSPECIFIED ||
      in.type() > raftpb::MSG_NODE_HEARTBEAT) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad message type ", in.type()));
  }
  WireMessage w;
  w.group_id = in.group_id();
  Message& m = w.message;
  m.type = static_cast<MessageType>(in.type());
  m.from = in.from();
  m.to = in.to();
  m.term = in.term();
  m.log_term = in.log_term();
  m.index = in.index();
  m.commit = in.commit();
  m.reject = in.reject();
  m.reject_hint = in.reject_hint();
  m.hint_term = in.hint_term();
  m.quiesce = in.quiesce();
  if (!in.context().empty()) m.context = Bytes::Copy(in.context());
  m.entries.reserve(in.entries_size());
  Index expected = in.index() + 1;
  for (const raftpb::Entry& e : in.entries()) {
    if (e.type() != raftpb::ENTRY_NORMAL &&
        e.type() != raftpb::ENTRY_CONF_CHANGE) {
      return absl::InvalidArgumentError("bad entry type");
    }
    if (e.index() != expected++) {
      return absl::InvalidArgumentError("entries not contiguous after index");
    }
    m.entries.push_back(Entry{e.term(), e.index(),
                              e.type() == raftpb::ENTRY_CONF_CHANGE
                                  ? EntryType::kConfChange
                                  : EntryType::kNormal,
                              Bytes::Copy(e.data())});
  }
  if (in.has_snapshot()) {
    if (m.type != MessageType::kSnapshot) {
      return absl::InvalidArgumentError("snapshot on a non-snapshot message");
    }
    auto s = std::make_shared<Snapshot>();
    s->metadata.conf_state = FromProto(in.snapshot().metadata().conf_state());
    s->metadata.index = in.snapshot().metadata().index();
    s->metadata.term = in.snapshot().metadata().term();
    s->data = Bytes::Copy(in.snapshot().data());
    m.snapshot = std::move(s);
  } else if (m.type == MessageType::kSnapshot) {
    return absl::InvalidArgumentError("snapshot message without a snapshot");
  }
  return w;
}

}  // namespace chronik::raft
