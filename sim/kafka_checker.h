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
//                        high watermark.
// A send whose fate is unknown (timed out, producer reset) may or may not be
// read; only acknowledged values must be. Plain value type; knows nothing of
// the broker (values are opaque strings).
#ifndef CHRONIK_SIM_KAFKA_CHECKER_H_
#define CHRONIK_SIM_KAFKA_CHECKER_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace chronik::sim {

class KafkaChecker {
 public:
  // A producer sends `value` to `partition` (once per value; retries of the
  // same batch are the same send).
  void OnSend(int partition, const std::string& value);
  // The broker acknowledged `value` at `offset` (-1: offset not reported).
  void OnAck(int partition, const std::string& value, int64_t offset);
  // The consumer read `value` at `offset` of `partition`.
  void OnRead(int partition, int64_t offset, const std::string& value);
  // The consumer read `partition` up to `high_watermark` (exclusive).
  void OnReadDone(int partition, int64_t high_watermark);

  // The first anomaly, or nullopt when the history is consistent.
  std::optional<std::string> Check() const;

  uint64_t sends() const { return sends_.size(); }
  uint64_t acks() const { return acks_.size(); }
  uint64_t reads() const { return reads_; }

 private:
  struct Ack {
    int partition = 0;
    int64_t offset = -1;
  };
  std::map<std::string, int> sends_;  // value -> partition
  std::map<std::string, Ack> acks_;   // value -> first acknowledgement
  // partition -> offset -> value (the consumer's view).
  std::map<int, std::map<int64_t, std::string>> read_;
  std::map<int, int64_t> read_done_;  // partition -> high watermark
  uint64_t reads_ = 0;
  std::vector<std::string> ack_conflicts_;  // one value acked at two offsets
};

}  // namespace chronik::sim

#endif  // CHRONIK_SIM_KAFKA_CHECKER_H_
