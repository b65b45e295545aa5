// InitProducerId: idempotent producers get an id from this node's block
// (ProducerIdAllocator); transactional ones from the transaction coordinator
// (the metadata leader: NOT_COORDINATOR elsewhere), which bumps the epoch and
// fences the previous one (broker/metadata/transactions.h).
#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "broker/kafka/errors.h"
#include "broker/server/handlers/handlers.h"

namespace chronik::broker {

void Handle(Services& s, const RequestContext& c,
            kafka::InitProducerIdRequest& r) {
  if (!r.transactional_id.has_value() || r.transactional_id->empty()) {
    s.producer_ids.Request(c);
    return;
  }
  if (!Allowed(s, c, acl::kWrite,
               {acl::kTransactionalId, *r.transactional_id})) {
    kafka::InitProducerIdResponse response;
    response.producer_id = -1;
    response.producer_epoch = -1;
    response.error_code = kafka::error::kTransactionalIdAuthorizationFailed;
    s.connections.Finish(c, response, true);
    return;
  }
  auto answer = [&s, c](const metadata::ApplyResult* result) {
    kafka::InitProducerIdResponse response;
    response.producer_id = -1;
    response.producer_epoch = -1;
    if (result == nullptr) {
      response.error_code = kafka::error::kNotCoordinator;
    } else {
      response.error_code =
          FencedCode(result->error_code, c.header.api_version >= 4);
      if (result->error_code == kafka::error::kNone) {
        response.producer_id = result->first_producer_id;
        response.producer_epoch = result->producer_epoch;
      }
    }
    s.connections.Finish(c, response, response.error_code != 0);
  };
  if (!s.metadata.is_leader()) {
    answer(nullptr);
    return;
  }
  metapb::MetadataCommand command;
  metapb::InitTxnProducer* init = command.mutable_init_txn_producer();
  init->set_transactional_id(*r.transactional_id);
  init->set_timeout_ms(r.transaction_timeout_ms);
  init->set_now_ms(s.NowMs());
  init->set_expected_producer_id(r.producer_id);
  init->set_expected_producer_epoch(r.producer_epoch);
  s.metadata.Propose(command, answer);
}

// DescribeProducers: the partition leader's producers (idempotent and
// transactional) from its applied log.
void Handle(Services& s, const RequestContext& c,
            kafka::DescribeProducersRequest& r) {
  kafka::DescribeProducersResponse response;
  bool had_error = false;
  for (const auto& topic : r.topics) {
    kafka::DescribeProducersResponse::DescribeProducersTopicResponse out_topic;
    out_topic.name = topic.name;
    const metapb::TopicInfo* info = s.state().FindTopic(topic.name);
    for (int32_t index : topic.partition_indexes) {
      kafka::DescribeProducersResponse::DescribeProducersPartitionResponse out;
      out.partition_index = index;
      PartitionReplica* replica = nullptr;
      out.error_code =
          TopicAccess(s, c, acl::kRead, topic.name) != kafka::error::kNone
              ? kafka::error::kTopicAuthorizationFailed
          : info == nullptr || index < 0 || index >= info->partitions_size()
              ? kafka::error::kUnknownTopicOrPartition
              : s.partitions.LeaderReplica(s.state(), topic.name, index,
                                           /*require_ready=*/true, &replica);
      had_error |= out.error_code != kafka::error::kNone;
      if (out.error_code == kafka::error::kNone) {
        for (const partition::ProducerSummary& p :
             replica->producers().Producers()) {
          const int32_t seq = replica->txn().LastMarkerSeq(p.producer_id);
          out.active_producers.push_back(
              {p.producer_id, p.epoch, p.last_sequence, -1, seq == 0 ? -1 : seq,
               replica->txn().OpenFirstOffset(p.producer_id).value_or(-1)});
        }
      }
      out_topic.partitions.push_back(std::move(out));
    }
    response.topics.push_back(std::move(out_topic));
  }
  s.connections.Finish(c, response, had_error);
}

}  // namespace chronik::broker
