// Transactions (KIP-98), on the coordinator (the metadata leader; others
// answer NOT_COORDINATOR): AddPartitionsToTxn, AddOffsetsToTxn, EndTxn,
// TxnOffsetCommit, DescribeTransactions, ListTransactions. Each request
// becomes one metadata command (broker/metadata/transactions.h judges it in
// its apply) and is answered with the apply's error code once committed
// (NOT_COORDINATOR when the proposal is dropped: leadership moved).
// InitProducerId with a transactional id is in producers.cc.
#include "broker/metadata/transactions.h"

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "broker/kafka/errors.h"
#include "broker/server/handlers/handlers.h"

namespace chronik::broker {

int16_t FencedCode(int16_t code, bool producer_fenced_known) {
  return code == kafka::error::kProducerFenced && !producer_fenced_known
             ? kafka::error::kInvalidProducerEpoch
             : code;
}

namespace {

// Proposes `command` on the coordinator and calls `answer` with the error
// code (NOT_COORDINATOR when this node is not it or loses it).
void ProposeTxn(Services& s, const metapb::MetadataCommand& command,
                std::function<void(int16_t)> answer) {
  if (!s.metadata.is_leader()) {
    answer(kafka::error::kNotCoordinator);
    return;
  }
  s.metadata.Propose(command, [answer = std::move(answer)](
                                  const metadata::ApplyResult* result) {
    answer(result == nullptr ? kafka::error::kNotCoordinator
                             : result->error_code);
  });
}

}  // namespace

void Handle(Services& s, const RequestContext& c,
            kafka::AddPartitionsToTxnRequest& r) {
  auto response = std::make_shared<kafka::AddPartitionsToTxnResponse>();
  metapb::MetadataCommand command;
  metapb::AddTxnPartitions* add = command.mutable_add_txn_partitions();
  add->set_transactional_id(r.transactional_id);
  add->set_producer_id(r.producer_id);
  add->set_producer_epoch(r.producer_epoch);
  add->set_now_ms(s.NowMs());
  // As Kafka: WRITE on the transactional id, then on each topic; a denied
  // or unknown partition leaves the others not attempted.
  const int16_t txn_denied = TxnAccess(s, c, acl::kWrite, r.transactional_id);
  bool unknown = txn_denied != kafka::error::kNone;
  for (const auto& topic : r.topics) {
    kafka::AddPartitionsToTxnResponse::AddPartitionsToTxnTopicResult out;
    out.name = topic.name;
    const metapb::TopicInfo* info = s.state().FindTopic(topic.name);
    const int16_t denied = txn_denied != kafka::error::kNone
                               ? txn_denied
                               : TopicAccess(s, c, acl::kWrite, topic.name);
    for (int32_t p : topic.partitions) {
      int16_t code = kafka::error::kNone;
      if (denied != kafka::error::kNone) {
        code = denied;
        unknown = true;
      } else if (info == nullptr || p < 0 || p >= info->partitions_size()) {
        code = kafka::error::kUnknownTopicOrPartition;
        unknown = true;
      } else {
        metapb::TxnPartition* partition = add->add_partitions();
        partition->set_topic(topic.name);
        partition->set_partition(p);
        partition->set_group_id(info->partitions(p).group_id());
      }
      out.results.push_back({p, code});
    }
    response->results.push_back(std::move(out));
  }
  const bool fenced_known = c.header.api_version >= 2;
  auto answer = [&s, c, response, fenced_known](int16_t code) {
    for (auto& topic : response->results) {
      for (auto& p : topic.results) {
        if (p.error_code == kafka::error::kNone) {
          p.error_code = FencedCode(code, fenced_known);
        }
      }
    }
    s.connections.Finish(c, *response, code != kafka::error::kNone);
  };
  if (unknown) {
    // As Kafka: nothing is added; the known partitions were not attempted.
    answer(kafka::error::kOperationNotAttempted);
    return;
  }
  ProposeTxn(s, command, answer);
}

void Handle(Services& s, const RequestContext& c,
            kafka::AddOffsetsToTxnRequest& r) {
  const bool fenced_known = c.header.api_version >= 2;
  auto answer = [&s, c, fenced_known](int16_t code) {
    kafka::AddOffsetsToTxnResponse response;
    response.error_code = FencedCode(code, fenced_known);
    s.connections.Finish(c, response, code != kafka::error::kNone);
  };
  int16_t denied = TxnAccess(s, c, acl::kWrite, r.transactional_id);
  if (denied == kafka::error::kNone) {
    denied = GroupAccess(s, c, acl::kRead, r.group_id);
  }
  if (denied != kafka::error::kNone) {
    answer(denied);
    return;
  }
  if (r.group_id.empty()) {
    answer(kafka::error::kInvalidGroupId);
    return;
  }
  metapb::MetadataCommand command;
  metapb::AddTxnPartitions* add = command.mutable_add_txn_partitions();
  add->set_transactional_id(r.transactional_id);
  add->set_producer_id(r.producer_id);
  add->set_producer_epoch(r.producer_epoch);
  add->add_groups(r.group_id);
  add->set_now_ms(s.NowMs());
  ProposeTxn(s, command, answer);
}

void Handle(Services& s, const RequestContext& c, kafka::EndTxnRequest& r) {
  const bool fenced_known = c.header.api_version >= 2;
  auto answer = [&s, c, fenced_known](int16_t code) {
    kafka::EndTxnResponse response;
    response.error_code = FencedCode(code, fenced_known);
    s.connections.Finish(c, response, code != kafka::error::kNone);
  };
  if (int16_t denied = TxnAccess(s, c, acl::kWrite, r.transactional_id)) {
    answer(denied);
    return;
  }
  metapb::MetadataCommand command;
  metapb::EndTxn* end = command.mutable_end_txn();
  end->set_transactional_id(r.transactional_id);
  end->set_producer_id(r.producer_id);
  end->set_producer_epoch(r.producer_epoch);
  end->set_commit(r.committed);
  end->set_now_ms(s.NowMs());
  ProposeTxn(s, command, answer);
}

namespace {

// TxnOffsetCommit's group check (Kafka's): a member id given must be a
// member, a generation given the current one.
int16_t CheckTxnCommitMember(Services& s,
                             const kafka::TxnOffsetCommitRequest& r) {
  if (r.group_id.empty()) return kafka::error::kInvalidGroupId;
  if (r.member_id.empty() && r.generation_id < 0) return kafka::error::kNone;
  return s.groups.coordinator()->ValidateCommit(
      r.group_id, r.member_id, r.generation_id, r.group_instance_id);
}

}  // namespace

void Handle(Services& s, const RequestContext& c,
            kafka::TxnOffsetCommitRequest& r) {
  auto response = std::make_shared<kafka::TxnOffsetCommitResponse>();
  // WRITE on the transactional id, READ on the group, READ on each topic.
  int16_t common = TxnAccess(s, c, acl::kWrite, r.transactional_id);
  if (common == kafka::error::kNone) {
    common = GroupAccess(s, c, acl::kRead, r.group_id);
  }
  if (common == kafka::error::kNone) {
    common = s.groups.coordinator() == nullptr ? kafka::error::kNotCoordinator
                                               : CheckTxnCommitMember(s, r);
  }
  metapb::MetadataCommand command;
  metapb::StageTxnOffsets* stage = command.mutable_stage_txn_offsets();
  stage->set_transactional_id(r.transactional_id);
  stage->set_producer_id(r.producer_id);
  stage->set_producer_epoch(r.producer_epoch);
  stage->set_now_ms(s.NowMs());
  stage->mutable_offsets()->set_group(r.group_id);
  for (const auto& topic : r.topics) {
    kafka::TxnOffsetCommitResponse::TxnOffsetCommitResponseTopic out;
    out.name = topic.name;
    const metapb::TopicInfo* info = s.state().FindTopic(topic.name);
    const int16_t topic_error = common != kafka::error::kNone
                                    ? common
                                    : TopicAccess(s, c, acl::kRead, topic.name);
    for (const auto& p : topic.partitions) {
      int16_t code = topic_error;
      if (code == kafka::error::kNone &&
          (info == nullptr || p.partition_index < 0 ||
           p.partition_index >= info->partitions_size())) {
        code = kafka::error::kUnknownTopicOrPartition;
      }
      out.partitions.push_back({p.partition_index, code});
      if (code != kafka::error::kNone) continue;
      metapb::OffsetCommitEntry* entry =
          stage->mutable_offsets()->add_offsets();
      entry->set_topic(topic.name);
      entry->set_partition(p.partition_index);
      entry->set_offset(p.committed_offset);
      entry->set_leader_epoch(p.committed_leader_epoch);
      entry->set_metadata(p.committed_metadata.value_or(""));
      entry->set_commit_time_ms(s.NowMs());
    }
    response->topics.push_back(std::move(out));
  }
  auto answer = [&s, c, response](int16_t code) {
    bool had_error = false;
    for (auto& topic : response->topics) {
      for (auto& p : topic.partitions) {
        // Only the partitions proposed (the others keep their error).
        if (p.error_code == kafka::error::kNone) {
          p.error_code = FencedCode(code, false);
        }
        had_error |= p.error_code != kafka::error::kNone;
      }
    }
    s.connections.Finish(c, *response, had_error);
  };
  if (stage->offsets().offsets_size() == 0) {
    answer(common);
    return;
  }
  ProposeTxn(s, command, answer);
}

void Handle(Services& s, const RequestContext& c,
            kafka::DescribeTransactionsRequest& r) {
  kafka::DescribeTransactionsResponse response;
  bool had_error = false;
  for (const std::string& id : r.transactional_ids) {
    kafka::DescribeTransactionsResponse::TransactionState out;
    out.transactional_id = id;
    out.producer_id = -1;
    out.producer_epoch = -1;
    out.transaction_start_time_ms = -1;
    const metapb::TransactionInfo* txn = s.state().transactions().Find(id);
    if (int16_t denied = TxnAccess(s, c, acl::kDescribe, id)) {
      out.error_code = denied;
    } else if (!s.metadata.is_leader()) {
      out.error_code = kafka::error::kNotCoordinator;
    } else if (txn == nullptr) {
      out.error_code = kafka::error::kTransactionalIdNotFound;
    } else {
      out.transaction_state = metadata::TxnStatusName(txn->status());
      out.transaction_timeout_ms = txn->timeout_ms();
      out.transaction_start_time_ms =
          txn->status() == metapb::TXN_EMPTY ? -1 : txn->start_time_ms();
      out.producer_id = txn->producer_id();
      out.producer_epoch = static_cast<int16_t>(txn->producer_epoch());
      for (const metapb::TxnPartition& p : txn->partitions()) {
        if (out.topics.empty() || out.topics.back().topic != p.topic()) {
          out.topics.push_back({p.topic(), {}});
        }
        out.topics.back().partitions.push_back(p.partition());
      }
    }
    had_error |= out.error_code != kafka::error::kNone;
    response.transaction_states.push_back(std::move(out));
  }
  s.connections.Finish(c, response, had_error);
}

void Handle(Services& s, const RequestContext& c,
            kafka::ListTransactionsRequest& r) {
  kafka::ListTransactionsResponse response;
  if (!s.metadata.is_leader()) {
    response.error_code = kafka::error::kNotCoordinator;
    s.connections.Finish(c, response, true);
    return;
  }
  std::set<std::string> states;
  for (const std::string& state : r.state_filters) {
    bool known = false;
    for (int v = metapb::TXN_EMPTY; v <= metapb::TXN_COMPLETE_ABORT; ++v) {
      known |= state == metadata::TxnStatusName(metapb::TxnStatus(v));
    }
    if (known) {
      states.insert(state);
    } else {
      response.unknown_state_filters.push_back(state);
    }
  }
  const std::set<int64_t> ids(r.producer_id_filters.begin(),
                              r.producer_id_filters.end());
  for (const metapb::TransactionInfo* txn : s.state().transactions().All()) {
    const std::string state = metadata::TxnStatusName(txn->status());
    if (!r.state_filters.empty() && states.count(state) == 0) continue;
    if (!ids.empty() && ids.count(txn->producer_id()) == 0) continue;
    // Only the transactional ids the principal may describe (as Kafka).
    if (TxnAccess(s, c, acl::kDescribe, txn->transactional_id()) !=
        kafka::error::kNone) {
      continue;
    }
    response.transaction_states.push_back(
        {txn->transactional_id(), txn->producer_id(), state});
  }
  s.connections.Finish(c, response);
}

}  // namespace chronik::broker
