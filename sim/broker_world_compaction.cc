// The broker scenario's log compaction (BrokerScenarioOptions::compaction):
// the seed's draw, topic "t"'s compaction configs, the producers' keys and
// the final consumer's reads of compacted partitions (the Kafka checker's
// compaction rules, sim/compaction_checker.h).
#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "broker/server/log_compactor.h"
#include "sim/broker_world.h"

namespace chronik::sim {

CompactionPlan DrawCompactionPlan(const BrokerScenarioOptions& options) {
  // Every draw is made whatever the options say, so forcing one keeps the
  // others.
  Rng rng = Rng::Stream(options.seed, "compaction");
  const bool on = rng.Chance(0.4);
  CompactionPlan plan;
  plan.keys = static_cast<int>(rng.Between(2, 6)) * options.partitions;
  plan.segment_bytes = rng.Between(1024, 4096);
  plan.segment_ms = rng.Between(300, 3000);
  plan.dirty_ratio_percent = static_cast<int>(rng.Between(1, 50));
  plan.delete_retention_ms = rng.Between(100, 5000);
  plan.on = options.compaction >= 0 ? options.compaction == 1 : on;
  return plan;
}

void BrokerWorld::AddCompactionConfigs(
    kafka::CreateTopicsRequest& request) const {
  if (!Compacts()) return;
  auto& configs = request.topics[0].configs;
  // DeleteRecords needs "delete" in the policy (else POLICY_VIOLATION, as
  // Kafka), and retention.bytes acts only with it.
  const bool deletes =
      log_starts_.retention_bytes >= 0 || log_starts_.delete_records;
  configs.push_back({"cleanup.policy", deletes ? "compact,delete" : "compact"});
  configs.push_back({"segment.bytes", absl::StrCat(compaction_.segment_bytes)});
  configs.push_back({"segment.ms", absl::StrCat(compaction_.segment_ms)});
  configs.push_back(
      {"min.cleanable.dirty.ratio",
       absl::StrCat("0.", compaction_.dirty_ratio_percent < 10 ? "0" : "",
                    compaction_.dirty_ratio_percent)});
  configs.push_back(
      {"delete.retention.ms", absl::StrCat(compaction_.delete_retention_ms)});
}

std::optional<std::string> BrokerWorld::TransactionalKey(
    const std::string& value) {
  if (!Compacts()) return std::nullopt;
  // Kafka refuses keyless records on a compacted topic. One key per record:
  // no committed record is superseded, so a committed transaction's records
  // all stay (the TxnChecker's TORN TXN still applies) while an aborted
  // one's go, and then its marker (after delete.retention.ms).
  checker_.compaction().OnTransactionalSend(value);
  return absl::StrCat("x", value);
}

void BrokerWorld::AddCompactionTotals() {
  if (!result_.failure.empty()) return;  // a broker may not have started
  for (const BrokerNode& node : nodes_) {
    if (node.broker == nullptr || !node.process.running()) continue;
    result_.markers_removed += node.broker->CompactionStats().markers_removed;
  }
}

std::optional<std::string> BrokerWorld::ProducerKey(uint64_t n,
                                                    const std::string& value) {
  if (!Compacts()) return std::nullopt;
  // Spread over the partitions' keys (the partition is n + client modulo
  // the partition count, so every partition sees several keys). After the
  // heal only the lower half is written: the others' latest records then
  // lie in segments the compactor cleans before the final read.
  const uint64_t keys = static_cast<uint64_t>(
      healed_ ? std::max(1, compaction_.keys / 2) : compaction_.keys);
  std::string key = absl::StrCat(
      "k", (n / static_cast<uint64_t>(options_.partitions)) % keys);
  checker_.compaction().OnSend(value, key);
  return key;
}

void BrokerWorld::ConsumeRecords(SimClient& consumer,
                                 const kafka::BatchHeader& batch,
                                 const std::vector<kafka::Record>& records,
                                 int64_t high_watermark) {
  const int partition = consumer.partition;
  if (batch.last_offset() >= consumer.offset) {
    checker_.compaction().OnBatch(partition, batch.base_offset,
                                  batch.last_offset());
  }
  if (batch.last_offset() >= consumer.offset) {
    result_.compacted_away +=
        static_cast<uint64_t>(batch.last_offset() - batch.base_offset + 1 -
                              static_cast<int64_t>(records.size()));
  }
  for (const kafka::Record& record : records) {
    const int64_t offset = batch.base_offset + record.offset_delta;
    if (offset < consumer.offset || offset >= high_watermark) continue;
    const std::string value = record.value.value_or("");
    checker_.OnRead(partition, offset, value);
    checker_.compaction().OnRead(partition, offset, record.key.value_or(""),
                                 value);
    ++result_.records_read;
    consumer.offset = offset + 1;
  }
  // Past a batch compaction emptied (a no-op for a full batch).
  if (batch.last_offset() >= consumer.offset &&
      batch.last_offset() < high_watermark) {
    consumer.offset = batch.last_offset() + 1;
  }
}

}  // namespace chronik::sim
