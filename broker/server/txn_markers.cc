#include "broker/server/txn_markers.h"

#include <utility>

#include "base/check.h"
#include "broker/kafka/control_batch.h"
#include "broker/server/metadata_client.h"

namespace chronik::broker {

TxnMarkers::TxnMarkers(replication::RaftHost* host,
                       PartitionManager* partitions, env::BrokerBugs bugs)
    : host_(host),
      partitions_(partitions),
      bugs_(bugs),
      in_flight_(std::make_shared<std::set<Key>>()) {}

TxnMarkers::~TxnMarkers() = default;

std::vector<metapb::MetadataCommand> TxnMarkers::Drive(
    const metadata::MetadataState& state, int64_t tick_ms, int64_t now_ms) {
  std::vector<metapb::MetadataCommand> out;
  std::map<Key, int64_t> reports;
  for (const metapb::TransactionInfo* txn : state.transactions().All()) {
    if (!metadata::IsPrepare(txn->status())) continue;
    for (const metapb::TxnPartition& p : txn->pending_markers()) {
      const Key key{p.group_id(), txn->transactional_id(), txn->txn_seq()};
      auto known = next_report_ms_.find(key);
      if (known != next_report_ms_.end()) reports.insert(*known);
    }
  }
  next_report_ms_.swap(reports);  // only the ones still waited for
  for (const metapb::TransactionInfo* txn : state.transactions().All()) {
    if (!metadata::IsPrepare(txn->status())) continue;
    for (const metapb::TxnPartition& p : txn->pending_markers()) {
      DrivePartition(*txn, p, state, tick_ms, now_ms, &out);
    }
  }
  return out;
}

void TxnMarkers::DrivePartition(const metapb::TransactionInfo& txn,
                                const metapb::TxnPartition& p,
                                const metadata::MetadataState& state,
                                int64_t tick_ms, int64_t now_ms,
                                std::vector<metapb::MetadataCommand>* out) {
  PartitionReplica* replica =
      partitions_->Find(state, p.topic(), p.partition());
  if (replica == nullptr || replica->group_id() != p.group_id() ||
      !replica->leader_ready()) {
    return;
  }
  const Key key{p.group_id(), txn.transactional_id(), txn.txn_seq()};
  if (replica->txn().LastMarkerSeq(txn.producer_id()) >= txn.txn_seq()) {
    // Written (by this leader or an earlier one): report it.
    auto [it, added] = next_report_ms_.emplace(key, 0);
    if (!added && tick_ms < it->second) return;
    it->second = tick_ms + kLeaderReportRetryMs;
    metapb::MetadataCommand command;
    metapb::TxnMarkerWritten* written = command.mutable_txn_marker_written();
    written->set_transactional_id(txn.transactional_id());
    written->set_txn_seq(txn.txn_seq());
    written->set_group_id(p.group_id());
    written->set_now_ms(now_ms);
    out->push_back(std::move(command));
    return;
  }
  if (in_flight_->count(key) > 0) return;
  kafka::TxnMarker marker;
  marker.producer_id = txn.producer_id();
  marker.producer_epoch = static_cast<int16_t>(txn.producer_epoch());
  marker.commit = txn.status() == metapb::TXN_PREPARE_COMMIT;
  if (bugs_.txn_abort_marker_as_commit) marker.commit = true;
  if (bugs_.txn_commit_marker_as_abort) marker.commit = false;
  marker.coordinator_epoch = txn.txn_seq();
  marker.timestamp_ms = now_ms;
  absl::StatusOr<replication::RaftHost::Proposed> proposed = host_->Propose(
      p.group_id(), raft::Bytes::Own(kafka::BuildTxnMarker(marker)));
  if (!proposed.ok()) return;  // the next tick tries again
  BatchFacts facts;
  facts.producer_id = marker.producer_id;
  facts.producer_epoch = marker.producer_epoch;
  facts.record_count = 1;
  facts.transactional = true;
  facts.control = true;
  facts.commit = marker.commit;
  facts.txn_seq = marker.coordinator_epoch;
  in_flight_->insert(key);
  replica->AddPendingAppend(proposed->term, proposed->index, facts,
                            [in_flight = in_flight_, key](int16_t, int64_t) {
                              in_flight->erase(key);
                            });
}

std::vector<metapb::MetadataCommand> TxnMarkers::Timeouts(
    const metadata::MetadataState& state, int64_t tick_ms, int64_t now_ms) {
  std::vector<metapb::MetadataCommand> out;
  decltype(open_since_) still;
  for (const metapb::TransactionInfo* txn : state.transactions().All()) {
    if (txn->status() != metapb::TXN_ONGOING) continue;
    const std::pair<std::string, int32_t> key{txn->transactional_id(),
                                              txn->txn_seq()};
    auto it = open_since_.find(key);
    std::pair<int64_t, int64_t> since =
        it == open_since_.end() ? std::make_pair(tick_ms, int64_t{0})
                                : it->second;
    if (tick_ms - since.first >= txn->timeout_ms() && tick_ms >= since.second) {
      since.second = tick_ms + kForwardRetryMs;
      metapb::MetadataCommand command;
      metapb::EndTxn* end = command.mutable_end_txn();
      end->set_transactional_id(txn->transactional_id());
      end->set_fence(true);
      end->set_expected_txn_seq(txn->txn_seq());
      end->set_now_ms(now_ms);
      out.push_back(std::move(command));
    }
    still.emplace(key, since);
  }
  open_since_.swap(still);
  return out;
}

}  // namespace chronik::broker
