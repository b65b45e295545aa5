// TxnMarkers: this node's part in ending transactions (see
// docs/ARCHITECTURE.md, Transactions), driven by the committed metadata
// every tick:
//  - as a partition leader: for each transaction in PrepareCommit or
//    PrepareAbort that still waits for a partition this node leads (and may
//    take requests for), proposes the marker (a control batch with the
//    transaction's txn_seq) to the partition's Raft group unless its applied
//    log already holds one of that txn_seq for the producer, and then reports
//    TxnMarkerWritten (re-sent every kLeaderReportRetryMs until the metadata
//    shows it);
//  - as the coordinator (the metadata leader): aborts (fencing the producer)
//    each Ongoing transaction open for longer than its timeout, measured in
//    tick time from when this node first saw it open (a new coordinator
//    counts from its election).
// Returns the metadata commands to propose or forward. Deterministic.
#ifndef CHRONIK_BROKER_SERVER_TXN_MARKERS_H_
#define CHRONIK_BROKER_SERVER_TXN_MARKERS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "broker/env/injected_bugs.h"
#include "broker/metadata/metadata_state.h"
#include "broker/replication/raft_host.h"
#include "broker/server/partition_manager.h"
#include "proto/metadata.pb.h"

namespace chronik::broker {

class TxnMarkers {
 public:
  // `bugs`: TEST-ONLY injected bugs (txn_abort_marker_as_commit,
  // txn_commit_marker_as_abort).
  TxnMarkers(replication::RaftHost* host, PartitionManager* partitions,
             env::BrokerBugs bugs = {});
  ~TxnMarkers();

  // Partition leader's duty; `tick_ms` paces re-sends, `now_ms` (the clock)
  // goes into the commands.
  std::vector<metapb::MetadataCommand> Drive(
      const metadata::MetadataState& state, int64_t tick_ms, int64_t now_ms);
  // Coordinator's duty (call only on the metadata leader; Forget otherwise).
  std::vector<metapb::MetadataCommand> Timeouts(
      const metadata::MetadataState& state, int64_t tick_ms, int64_t now_ms);
  void Forget() { open_since_.clear(); }

 private:
  using Key = std::tuple<uint64_t, std::string, int32_t>;  // group, id, seq
  // One partition of a transaction being ended; nullopt or the command.
  void DrivePartition(const metapb::TransactionInfo& txn,
                      const metapb::TxnPartition& p,
                      const metadata::MetadataState& state, int64_t tick_ms,
                      int64_t now_ms,
                      std::vector<metapb::MetadataCommand>* out);

  replication::RaftHost* const host_;
  PartitionManager* const partitions_;
  const env::BrokerBugs bugs_;
  std::map<Key, int64_t> next_report_ms_;
  // Markers proposed and not yet applied or failed (shared with their
  // completion callbacks).
  std::shared_ptr<std::set<Key>> in_flight_;
  // (transactional id, txn_seq) -> tick time it was first seen Ongoing, and
  // when its abort may be proposed again.
  std::map<std::pair<std::string, int32_t>, std::pair<int64_t, int64_t>>
      open_since_;
};

}  // namespace chronik::broker

#endif  // CHRONIK_BROKER_SERVER_TXN_MARKERS_H_
