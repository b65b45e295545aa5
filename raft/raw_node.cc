#include "raft/raw_node.h"

#include <type_traits>
#include <utility>

#include "raft/raft.h"

namespace chronik::raft {

namespace {

// Every input is followed by the invariant checker in builds without NDEBUG
// (tests, fastbuild); -c opt (benchmarks, production) compiles it away.
#ifdef NDEBUG
constexpr bool kCheckInvariants = false;
#else
constexpr bool kCheckInvariants = true;
#endif

inline void Checked(const Raft& raft) {
  if constexpr (kCheckInvariants) raft.CheckInvariants();
}

// Runs `input` on `raft`, then the checker; returns what `input` returned.
template <typename F>
auto Checked(Raft& raft, F&& input) {
  if constexpr (std::is_void_v<decltype(input())>) {
    input();
    Checked(raft);
  } else {
    auto result = input();
    Checked(raft);
    return result;
  }
}

}  // namespace

RawNode::RawNode(const Config& config) : raft_(std::make_unique<Raft>(config)) {
  Checked(*raft_);
}

RawNode::RawNode(std::unique_ptr<Raft> raft) : raft_(std::move(raft)) {}

absl::StatusOr<std::unique_ptr<RawNode>> RawNode::Restart(
    const Config& config, const RecoveredState& recovered) {
  auto raft = std::make_unique<Raft>(config);
  absl::Status status = raft->Restore(recovered);
  if (!status.ok()) return status;
  Checked(*raft);
  return std::unique_ptr<RawNode>(new RawNode(std::move(raft)));
}

RawNode::~RawNode() = default;
RawNode::RawNode(RawNode&&) noexcept = default;
RawNode& RawNode::operator=(RawNode&&) noexcept = default;

void RawNode::Tick() {
  Checked(*raft_, [&] { raft_->Tick(); });
}
absl::Status RawNode::Step(const Message& message) {
  Message copy = message;
  return Step(std::move(copy));
}
absl::Status RawNode::Step(Message&& message) {
  return Checked(*raft_, [&] { return raft_->Step(std::move(message)); });
}
absl::Status RawNode::Propose(Bytes data) {
  return Checked(*raft_, [&] { return raft_->Propose(std::move(data)); });
}
absl::Status RawNode::ProposeConfChange(const ConfChange& change) {
  return Checked(*raft_, [&] { return raft_->ProposeConfChange(change); });
}
absl::Status RawNode::ReadIndex(Bytes context) {
  return Checked(*raft_, [&] { return raft_->ReadIndex(std::move(context)); });
}
absl::Status RawNode::TransferLeadership(NodeId transferee) {
  return Checked(*raft_, [&] { return raft_->TransferLeadership(transferee); });
}
void RawNode::Campaign() {
  Checked(*raft_, [&] { raft_->Campaign(); });
}
void RawNode::SetCampaignAllowed(bool allowed) {
  Checked(*raft_, [&] { raft_->SetCampaignAllowed(allowed); });
}
void RawNode::Wake(const std::vector<NodeId>& silent,
                   const std::vector<NodeId>& restarted) {
  Checked(*raft_, [&] { raft_->Wake(silent, restarted); });
}
bool RawNode::quiesced() const { return raft_->quiesced(); }
void RawNode::OnPersisted(const PersistAck& ack) {
  Checked(*raft_, [&] { raft_->OnPersisted(ack); });
}
void RawNode::OnApplied(Index index) {
  Checked(*raft_, [&] { raft_->OnApplied(index); });
}
void RawNode::OnLogRead(const LogRead& read,
                        absl::StatusOr<std::vector<Entry>> entries) {
  Checked(*raft_, [&] { raft_->OnLogRead(read, std::move(entries)); });
}
absl::Status RawNode::OnSnapshotTaken(Index index, Bytes data) {
  return Checked(
      *raft_, [&] { return raft_->OnSnapshotTaken(index, std::move(data)); });
}
absl::Status RawNode::OnLogCompacted(const SnapshotMetadata& metadata,
                                     Bytes data) {
  return Checked(
      *raft_, [&] { return raft_->OnLogCompacted(metadata, std::move(data)); });
}
bool RawNode::HasReady() const { return raft_->HasReady(); }
Ready RawNode::GetReady() {
  return Checked(*raft_, [&] { return raft_->GetReady(); });
}
Term RawNode::term() const { return raft_->term(); }
Index RawNode::last_index() const { return raft_->last_index(); }
NodeStatus RawNode::Status() const { return raft_->Status(); }
NodeId RawNode::id() const { return raft_->id(); }
bool RawNode::is_leader() const { return raft_->role() == Role::kLeader; }
NodeId RawNode::leader() const { return raft_->leader(); }

}  // namespace chronik::raft
