#include "broker/server/producer_ids.h"

#include "base/check.h"
#include "broker/kafka/errors.h"

namespace chronik::broker {

ProducerIdAllocator::ProducerIdAllocator(raft::NodeId self, uint64_t seed,
                                         env::Clock* clock,
                                         MetadataClient* metadata,
                                         ConnectionTable* connections)
    : self_(self),
      rng_(splitmix64::Mix(seed ^ 0x70726f6475636572ull)),  // "producer"
      clock_(clock),
      metadata_(metadata),
      connections_(connections) {}

void ProducerIdAllocator::Request(const RequestContext& context) {
  if (waiting_.size() >= kMaxPendingInitProducerIds) {
    kafka::InitProducerIdResponse response;
    response.error_code = kafka::error::kCoordinatorNotAvailable;
    connections_->Finish(context, response, true);
    return;
  }
  waiting_.emplace_back(context, clock_->NowMs() + kInitProducerIdTimeoutMs);
  Serve();
}

void ProducerIdAllocator::Serve() {
  const int64_t now = clock_->NowMs();
  while (!waiting_.empty()) {
    const auto& [context, deadline_ms] = waiting_.front();
    kafka::InitProducerIdResponse response;
    if (next_id_ >= 0 && next_id_ < block_end_) {
      response.producer_id = next_id_++;
      response.producer_epoch = 0;
    } else if (now >= deadline_ms) {
      response.error_code =
          kafka::error::kCoordinatorNotAvailable;  // retriable
    } else {
      break;
    }
    connections_->Finish(context, response, response.error_code != 0);
    waiting_.pop_front();
  }
  if (waiting_.empty() || now < block_retry_ms_) return;
  // Ask the metadata group for a block for this node; it arrives in
  // OnApplied.
  // A retry keeps the request id: whichever copy commits first is taken.
  while (request_id_ == 0) request_id_ = rng_.Next();
  metapb::MetadataCommand command;
  command.mutable_allocate_producer_ids()->set_count(kProducerIdBlockSize);
  command.mutable_allocate_producer_ids()->set_node_id(self_);
  command.mutable_allocate_producer_ids()->set_request_id(request_id_);
  if (!metadata_->ProposeOrForward(command)) return;  // no leader yet
  block_retry_ms_ = now + kForwardRetryMs;
}

void ProducerIdAllocator::OnApplied(const MetadataClient::Applied& applied) {
  if (!applied.command.has_allocate_producer_ids()) return;
  const metapb::AllocateProducerIds& allocate =
      applied.command.allocate_producer_ids();
  // Only the block we are waiting for: not one replayed from an earlier
  // incarnation, not a second copy of a retried request.
  if (allocate.node_id() != self_ || applied.result.first_producer_id < 0 ||
      request_id_ == 0 || allocate.request_id() != request_id_) {
    return;
  }
  CHRONIK_CHECK_GE(next_id_, block_end_) << "a block arrived while one lasts";
  request_id_ = 0;
  next_id_ = applied.result.first_producer_id;
  block_end_ = next_id_ + allocate.count();
  block_retry_ms_ = 0;
  CHRONIK_CHECK_LE(next_id_, block_end_);
}

}  // namespace chronik::broker
