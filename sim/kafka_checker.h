// The Kafka history checker of the broker scenario: what producers were told
// (acknowledgements with their offsets) against what a consumer read back
// from every partition, offset 0 to the high watermark, after the heal.
//
// Anomalies, in the order Check() looks for them (the first one found, lowest
// partition then offset, is named):
//   DUPLICATE            one produced value stored at two offsets;
//   INCONSISTENT OFFSET  the acknowledgement said offset X, the value is at Y;
//   LOST                 an acknowledged value never read;
//   UNEXPECTED           a value read that no producer sent;
//   GAP                  the read of a partition skipped an offset below the
//                        high watermark;
//   COMPACTED LOST, COMPACTION ORDER, WRONG KEY  on compacted topics
//                        (sim/compaction_checker.h), where LOST and GAP
//                        allow what compaction removes.
// A send whose fate is unknown (timed out, producer reset) may or may not be
// read; only acknowledged values must be. Plain value type; knows nothing of
// the broker (values are opaque strings).
//
// Log starts (DeleteRecords and retention move a partition's log start; a
// broker reports it in DeleteRecords answers, ListOffsets earliest and
// Fetch). The final consumer and the group members reset to the log start
// when a Fetch says their position is below it (OnReadFrom, OnGroupReset):
// what lies below the offset the final consumer started from is
// legitimately gone (an acknowledged value there is not LOST, GAP counts
// from there, a delivery there is not compared). Rules, online:
//   LOG START BEYOND REQUEST  on a topic only DeleteRecords trims (no
//                        retention), a broker reported a log start beyond
//                        every offset DeleteRecords was asked for so far
//                        (records nobody deleted are gone);
//   LOG START WENT BACK  DeleteRecords(X) was acknowledged, and a
//                        ListOffsets earliest or DeleteRecords answer to a
//                        request sent after that reported a log start below
//                        X (or the acknowledgement itself did): the deletion
//                        was forgotten (a restart, a new leader).
//
// Consumer groups (members named by the caller, e.g. "m3.1" for the first
// incarnation of client 3; times in simulated nanoseconds). A member's
// "session" on a partition starts when OffsetFetch tells it the group's
// committed offset C after it was assigned the partition; it then reads from
// max(C, 0). Rules, online unless they need the final log:
//   COMMITTED OFFSET WENT BACK  an OffsetFetch sent after an OffsetCommit of
//                        offset X was acknowledged returned less than X
//                        (nothing here ever resets a group's offsets);
//   DUPLICATE DELIVERY   a record delivered to a second member session
//                        although an offset past it had been committed
//                        (acknowledged) before that session's OffsetFetch
//                        was sent (redelivery of uncommitted records is
//                        Kafka's at-least-once and allowed);
//   COMMIT REFUSED       an OffsetCommit of a member in the generation it
//                        synced, before it rejoined, answered
//                        REBALANCE_IN_PROGRESS: Kafka accepts it while a
//                        rebalance is being prepared (it refuses only during
//                        CompletingRebalance, which a synced member of that
//                        generation cannot see), so the revocation commit is
//                        lost and the next owner re-reads committed work;
//   INCONSISTENT OFFSET  two deliveries of one (partition, offset) differ,
//                        or (at the end) a delivery differs from the final
//                        consumer's log;
//   POLL SKIP            (at the end) a member session at position X (its
//                        committed start or the record after its last one)
//                        next read offset Y > X although the final log holds
//                        a record in [X, Y) (gaps the log really has, and
//                        records compaction may have removed from the
//                        replica it read, are no skips).
#ifndef CHRONIK_SIM_KAFKA_CHECKER_H_
#define CHRONIK_SIM_KAFKA_CHECKER_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "sim/compaction_checker.h"

namespace chronik::sim {

class KafkaChecker {
 public:
  // A producer sends `value` to `partition` (once per value; retries of the
  // same batch are the same send).
  // `idempotent` false: a plain producer's send, which a retry may store
  // twice (Kafka's at-least-once without idempotence): DUPLICATE does not
  // apply to it, and its acknowledgement must name one of its offsets.
  void OnSend(int partition, const std::string& value, bool idempotent = true);
  // The broker acknowledged `value` at `offset` (-1: offset not reported).
  void OnAck(int partition, const std::string& value, int64_t offset);
  // The consumer read `value` at `offset` of `partition`.
  void OnRead(int partition, int64_t offset, const std::string& value);
  // The consumer skipped a control batch (a transaction marker) at
  // [first, last] of `partition`: no GAP there.
  void OnControl(int partition, int64_t first, int64_t last);
  // The consumer read `partition` up to `high_watermark` (exclusive).
  void OnReadDone(int partition, int64_t high_watermark);

  // The first anomaly, or nullopt when the history is consistent.
  std::optional<std::string> Check() const;

  // Consumer groups. `sent_at`: when the OffsetFetch was sent; `committed`:
  // what it returned (-1: none, the member starts at 0).
  void OnGroupOffsetFetched(int64_t sent_at, int64_t now,
                            const std::string& member, int partition,
                            int64_t committed);
  // The member's consumption of `partition` ends (revoked, left, died).
  void OnGroupRevoked(const std::string& member, int partition);
  void OnGroupRead(int64_t now, const std::string& member, int partition,
                   int64_t offset, const std::string& value);
  void OnGroupCommitAcked(int64_t now, const std::string& member, int partition,
                          int64_t offset);
  // See COMMIT REFUSED above; the caller reports only commits of the
  // generation the member synced, sent before it rejoined.
  void OnGroupCommitRefusedRebalancing(int64_t now, const std::string& member,
                                       int32_t generation, int partition,
                                       int64_t offset);
  // Log starts (see above). `only`: only DeleteRecords trims the topic
  // (LOG START BEYOND REQUEST applies).
  void SetLogStartByDeleteRecordsOnly(bool only) {
    delete_records_only_ = only;
  }
  // DeleteRecords(`offset`) was sent for `partition` (-1: up to the high
  // watermark, which bounds nothing).
  void OnDeleteRecordsSent(int partition, int64_t offset);
  // ... and acknowledged with `low_watermark` (the request sent at
  // `sent_at`).
  void OnDeleteRecordsAcked(int64_t sent_at, int64_t now, int partition,
                            int64_t offset, int64_t low_watermark);
  // A broker reported `log_start` for `partition` (`how`: which answer).
  // `sent_at` < 0: an answer that may come from a leader that has not
  // applied its log yet (Fetch), which LOG START WENT BACK does not judge.
  void OnLogStartSeen(int64_t sent_at, int64_t now, int partition,
                      int64_t log_start, const std::string& how);
  // The final consumer (re)starts reading `partition` at `offset`, the log
  // start a broker reported.
  void OnReadFrom(int partition, int64_t offset);
  // A member's position on `partition` moves to the log start `offset`.
  void OnGroupReset(int64_t now, const std::string& member, int partition,
                    int64_t offset);
  const std::optional<std::string>& log_start_anomaly() const {
    return log_start_anomaly_;
  }
  // The highest log start a broker reported for `partition` (0: none): the
  // records below it were deleted (DeleteRecords, retention).
  int64_t HighestLogStartSeen(int partition) const;

  // The first online group anomaly so far (the run may stop at once).
  const std::optional<std::string>& group_anomaly() const {
    return group_anomaly_;
  }
  // Nullopt when, for every partition the final consumer read to its high
  // watermark, the group's highest acknowledged commit reached it; else what
  // is missing.
  std::optional<std::string> GroupLag() const;
  uint64_t group_reads() const { return group_reads_; }

  // Compacted topics (sim/compaction_checker.h): the caller feeds it keys,
  // reads and batches; LOST, GAP and the group log comparison defer to it.
  CompactionChecker& compaction() { return compaction_; }

  uint64_t sends() const { return sends_.size(); }
  uint64_t acks() const { return acks_.size(); }
  uint64_t reads() const { return reads_; }

 private:
  struct Ack {
    int partition = 0;
    int64_t offset = -1;
  };
  std::map<std::string, int> sends_;   // value -> partition
  std::set<std::string> plain_sends_;  // values of non-idempotent sends
  std::map<std::string, Ack> acks_;    // value -> first acknowledgement
  // partition -> offset -> value (the consumer's view).
  std::map<int, std::map<int64_t, std::string>> read_;
  std::map<int, int64_t> read_done_;          // partition -> high watermark
  std::map<int, std::set<int64_t>> control_;  // partition -> marker offsets
  uint64_t reads_ = 0;
  std::vector<std::string> ack_conflicts_;  // one value acked at two offsets

  // Consumer groups.
  struct GroupSession {
    uint64_t id = 0;
    int64_t started_at = 0;
    int64_t start = 0;     // the committed offset it started from (>= 0)
    int64_t position = 0;  // the next offset it expects
    int64_t floor = -1;    // highest commit acknowledged before its fetch
    int64_t floor_acked_at = -1;
    std::string floor_member;
  };
  struct Delivery {
    uint64_t session = 0;
    std::string member;
    int64_t at = 0;
    std::string value;
  };
  struct CommitAck {
    int64_t offset = -1;  // highest acknowledged so far (running maximum)
    std::string member;   // who committed that maximum
    int64_t acked_at = 0;
  };
  struct Skip {
    int64_t at = 0;
    std::string member;
    int partition = 0;
    int64_t from = 0;  // the session's position
    int64_t to = 0;    // the offset it read next
    int64_t session_start = 0;
  };
  // The highest commit acknowledged strictly before `at` (offset -1: none).
  CommitAck CommittedBefore(int partition, int64_t at) const;
  void GroupAnomaly(std::string text);
  std::optional<std::string> CheckGroupsAgainstLog() const;

  std::map<std::pair<std::string, int>, GroupSession> sessions_;
  uint64_t next_session_ = 1;
  // partition -> ack time -> the running maximum at that time.
  std::map<int, std::map<int64_t, CommitAck>> commit_acks_;
  std::map<int, std::map<int64_t, Delivery>> delivered_;  // first delivery
  std::vector<Skip> skips_;
  std::optional<std::string> group_anomaly_;
  uint64_t group_reads_ = 0;

  // Log starts.
  struct LogStarts {
    int64_t max_requested = 0;  // the highest DeleteRecords offset sent
    int64_t highest_seen = 0;   // the highest log start a broker reported
    bool unbounded = false;     // a DeleteRecords(-1) was sent
    // Ack time -> the highest acknowledged DeleteRecords offset by then.
    std::map<int64_t, int64_t> acked;
  };
  // The highest DeleteRecords offset acknowledged before `at` (0: none).
  int64_t DeletedBefore(int partition, int64_t at) const;
  // The offset the final consumer read `partition` from (0: the start).
  int64_t ReadFrom(int partition) const;
  void LogStartAnomaly(std::string text);
  bool delete_records_only_ = false;
  std::map<int, LogStarts> log_starts_;
  std::map<int, int64_t> read_from_;
  std::optional<std::string> log_start_anomaly_;
  CompactionChecker compaction_;
};

}  // namespace chronik::sim

#endif  // CHRONIK_SIM_KAFKA_CHECKER_H_
