// The state of the broker scenario's transactional clients
// (sim/broker_world_txn.cc): a transactional producer and a read_committed
// consumer (see BrokerScenarioOptions::transactions).
#ifndef CHRONIK_SIM_BROKER_TXN_CLIENT_H_
#define CHRONIK_SIM_BROKER_TXN_CLIENT_H_

#include <cstdint>
#include <string>
#include <vector>

namespace chronik::sim {

// What the transactional producer does next.
enum class TxnStage {
  kBegin,          // draw the next transaction (or stop)
  kAdd,            // AddPartitionsToTxn
  kProduce,        // the next record (transactional, idempotent sequence)
  kAddOffsets,     // AddOffsetsToTxn
  kCommitOffsets,  // TxnOffsetCommit
  kEnd,            // EndTxn with the decision
};

struct TxnRecordSend {
  int partition = 0;
  std::string value;
  std::string bytes;  // the batch, identical on every retry
  bool acked = false;
};

struct TxnClientState {
  std::string transactional_id;
  int coordinator = -1;  // node id, -1: FindCoordinator first
  TxnStage stage = TxnStage::kBegin;
  uint64_t number = 0;  // transactions begun
  std::string name;     // of the transaction in hand
  std::vector<int> partitions;
  std::vector<TxnRecordSend> records;
  size_t next_record = 0;
  int produce_failures = 0;  // of the record in hand
  bool commit = false;       // the decision
  bool offsets = false;      // with AddOffsetsToTxn + TxnOffsetCommit
  bool end_sent = false;
  // After this transaction ends: a new epoch (InitProducerId) first.
  bool reinit = false;
  // The read_committed consumer: the next offset per partition, what the
  // last Fetch of each said, the partition to fetch next, and whether the
  // final pass (every partition to its end, nothing open) is done.
  std::vector<int64_t> position;
  std::vector<int64_t> high_watermark;
  std::vector<int64_t> stable;
  int next_partition = 0;
  bool final_pass = false;
};

}  // namespace chronik::sim

#endif  // CHRONIK_SIM_BROKER_TXN_CLIENT_H_
