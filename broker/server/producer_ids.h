// ProducerIdAllocator: serves InitProducerId (idempotent producers) on any
// node. The metadata group hands each node blocks of kProducerIdBlockSize ids
// (AllocateProducerIds, proposed or forwarded); requests wait for a block up
// to kInitProducerIdTimeoutMs and then get COORDINATOR_NOT_AVAILABLE
// (retriable).
//
// A block is taken only for the request this incarnation is waiting for
// (matched by a random request id): after a restart the node replays its
// earlier blocks from the metadata log, and handing those ids out again would
// give two producers one id (simulator seed broker/610: the second producer's
// batches were acknowledged as duplicates of the first's and never stored).
// Deterministic given the seed; one thread.
#ifndef CHRONIK_BROKER_SERVER_PRODUCER_IDS_H_
#define CHRONIK_BROKER_SERVER_PRODUCER_IDS_H_

#include <cstdint>
#include <deque>
#include <utility>

#include "base/splitmix64.h"
#include "broker/server/connections.h"
#include "broker/server/metadata_client.h"

namespace chronik::broker {

inline constexpr int kProducerIdBlockSize = 1'000;
inline constexpr size_t kMaxPendingInitProducerIds = 10'000;
inline constexpr int64_t kInitProducerIdTimeoutMs = 10'000;

class ProducerIdAllocator {
 public:
  // `seed` must differ between incarnations of the node (env::Environment).
  ProducerIdAllocator(raft::NodeId self, uint64_t seed, env::Clock* clock,
                      MetadataClient* metadata, ConnectionTable* connections);

  // An InitProducerId request without a transactional id.
  void Request(const RequestContext& context);
  // Answers waiting requests from the current block, expires the overdue
  // ones, and asks for a new block when needed (every Process).
  void Serve();
  // A committed AllocateProducerIds for this node.
  void OnApplied(const MetadataClient::Applied& applied);

 private:
  const raft::NodeId self_;
  SplitMix64 rng_;
  env::Clock* const clock_;
  MetadataClient* const metadata_;
  ConnectionTable* const connections_;
  int64_t next_id_ = -1;  // next id of the current block
  int64_t block_end_ = -1;
  int64_t block_retry_ms_ = 0;  // no new block request before this
  uint64_t request_id_ = 0;     // of the block request outstanding; 0: none
  // Requests waiting for a block, with their deadlines.
  std::deque<std::pair<RequestContext, int64_t>> waiting_;
};

}  // namespace chronik::broker

#endif  // CHRONIK_BROKER_SERVER_PRODUCER_IDS_H_
