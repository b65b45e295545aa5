// The transactions checker of the broker scenario: what transactional
// producers know of their transactions (records sent and acknowledged, the
// outcome they asked for and the answer they got) against what a
// read_committed consumer was delivered and the markers it saw in the log.
//
// A transaction is "t<client>.<n>" (the client's n-th); its decision is the
// EndTxn the client sent: commit, or abort (also when it never sent one: a
// fenced or abandoned transaction is aborted by the coordinator). Its
// outcome as the client knows it: committed or aborted (EndTxn answered), or
// unknown (the answer was lost, or a later error made the client give up).
// Rules, at the end (the consumer read every partition to its end, past
// every marker):
//   ABORTED READ  a read_committed consumer was delivered a record of a
//                 transaction the client decided to abort, or whose next
//                 marker of its producer in the log is an abort marker;
//   TORN TXN      a committed transaction (known, or its marker in the log
//                 is a commit marker) of which some acknowledged record was
//                 not delivered; or a transaction of unknown outcome of which
//                 some records were delivered and others not (atomicity).
// Records below the log start the consumer was moved to (retention,
// DeleteRecords) are legitimately gone and not required. Plain value type;
// knows nothing of the broker.
#ifndef CHRONIK_SIM_TXN_CHECKER_H_
#define CHRONIK_SIM_TXN_CHECKER_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace chronik::sim {

class TxnChecker {
 public:
  enum class Outcome { kOpen, kCommitted, kAborted, kUnknown };

  // Producer side.
  void OnRecordSent(const std::string& txn, int partition,
                    const std::string& value);
  void OnRecordAcked(const std::string& value, int64_t offset);
  // The client sends EndTxn (commit or abort).
  void OnEndSent(const std::string& txn, bool commit);
  // The client knows the outcome (kCommitted, kAborted) or gave up on the
  // transaction (kUnknown; with no commit sent it is aborted).
  void OnOutcome(const std::string& txn, Outcome outcome);

  // The read_committed consumer. Raw log, as fetched: a transactional data
  // record of `producer_id` at `offset`, a marker.
  void OnLogRecord(int partition, int64_t offset, int64_t producer_id,
                   const std::string& value);
  void OnMarker(int partition, int64_t offset, int64_t producer_id,
                bool commit);
  // What the consumer delivered (after its read_committed filtering).
  void OnDelivered(int partition, int64_t offset, const std::string& value);
  // The consumer's position on `partition` moved up to the log start.
  void OnLogStart(int partition, int64_t offset);
  // The consumer starts its final read from the log start: TORN TXN judges
  // what that read delivers (a read over markers log compaction removed);
  // ABORTED READ and DUPLICATE judge every delivery.
  void StartFinalRead();

  std::optional<std::string> Check() const;

  uint64_t transactions() const { return txns_.size(); }
  uint64_t delivered() const { return delivered_.size(); }
  uint64_t committed() const;

 private:
  struct Record {
    std::string txn;
    int partition = 0;
    int64_t offset = -1;  // acknowledged at, -1: not acknowledged
  };
  struct Txn {
    bool commit_sent = false;
    Outcome outcome = Outcome::kOpen;
    std::vector<std::string> values;
  };
  struct LogRecord {
    int64_t producer_id = -1;
    std::string value;
  };
  // The marker of `producer_id` after `offset` on `partition`: 1 commit,
  // 0 abort, -1 none.
  int NextMarker(int partition, int64_t offset, int64_t producer_id) const;
  bool Gone(const Record& record) const;
  std::optional<std::string> CheckAborted() const;
  std::optional<std::string> CheckAborted(
      const std::map<std::string, std::pair<int, int64_t>>& deliveries) const;
  std::optional<std::string> CheckTorn() const;

  std::map<std::string, Txn> txns_;
  std::map<std::string, Record> records_;  // value -> record
  // partition -> offset -> record / marker (producer id, commit).
  std::map<int, std::map<int64_t, LogRecord>> log_;
  std::map<int, std::map<int64_t, std::pair<int64_t, bool>>> markers_;
  // value -> (partition, offset) of its first delivery (since
  // StartFinalRead; earlier_delivered_ before it).
  std::map<std::string, std::pair<int, int64_t>> delivered_;
  std::map<std::string, std::pair<int, int64_t>> earlier_delivered_;
  std::vector<std::string> duplicates_;
  std::map<int, int64_t> log_starts_;
};

}  // namespace chronik::sim

#endif  // CHRONIK_SIM_TXN_CHECKER_H_
