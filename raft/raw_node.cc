#include "raft/raw_node.h"

#include <utility>

#include "raft/raft.h"

namespace chronik::raft {

RawNode::RawNode(const Config& config)
    : raft_(std::make_unique<Raft>(config)) {}

RawNode::RawNode(std::unique_ptr<Raft> raft) : raft_(std::move(raft)) {}

absl::StatusOr<std::unique_ptr<RawNode>> RawNode::Restart(
    const Config& config, const RecoveredState& recovered) {
  auto raft = std::make_unique<Raft>(config);
  absl::Status status = raft->Restore(recovered);
  if (!status.ok()) return status;
  return std::unique_ptr<RawNode>(new RawNode(std::move(raft)));
}

RawNode::~RawNode() = default;
RawNode::RawNode(RawNode&&) noexcept = default;
RawNode& RawNode::operator=(RawNode&&) noexcept = default;

void RawNode::Tick() { raft_->Tick(); }
absl::Status RawNode::Step(const Message& message) {
  Message copy = message;
  return raft_->Step(std::move(copy));
}
absl::Status RawNode::Step(Message&& message) {
  return raft_->Step(std::move(message));
}
absl::Status RawNode::Propose(Bytes data) {
  return raft_->Propose(std::move(data));
}
absl::Status RawNode::ProposeConfChange(const ConfChange& change) {
  return raft_->ProposeConfChange(change);
}
absl::Status RawNode::ReadIndex(Bytes context) {
  return raft_->ReadIndex(std::move(context));
}
absl::Status RawNode::TransferLeadership(NodeId transferee) {
  return raft_->TransferLeadership(transferee);
}
void RawNode::Campaign() { raft_->Campaign(); }
void RawNode::OnPersisted(const PersistAck& ack) { raft_->OnPersisted(ack); }
void RawNode::OnApplied(Index index) { raft_->OnApplied(index); }
void RawNode::OnLogRead(const LogRead& read,
                        absl::StatusOr<std::vector<Entry>> entries) {
  raft_->OnLogRead(read, std::move(entries));
}
absl::Status RawNode::OnSnapshotTaken(Index index, Bytes data) {
  return raft_->OnSnapshotTaken(index, std::move(data));
}
bool RawNode::HasReady() const { return raft_->HasReady(); }
Ready RawNode::GetReady() { return raft_->GetReady(); }
NodeStatus RawNode::Status() const { return raft_->Status(); }
NodeId RawNode::id() const { return raft_->id(); }
bool RawNode::is_leader() const { return raft_->role() == Role::kLeader; }
NodeId RawNode::leader() const { return raft_->leader(); }

}  // namespace chronik::raft
