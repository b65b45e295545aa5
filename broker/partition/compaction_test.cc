#include "broker/partition/compaction.h"

#include <string>
#include <vector>

#include "absl/types/span.h"
#include "broker/kafka/batch_header.h"
#include "broker/kafka/control_batch.h"
#include "broker/kafka/record_batch.h"
#include "gtest/gtest.h"

namespace chronik::partition {
namespace {

struct Kv {
  std::string key;
  std::optional<std::string> value;
};

// A stored batch at `base` holding `records` at consecutive offsets, each
// `ts_step` ms after `base_ts`.
std::string Batch(int64_t base, std::vector<Kv> records, int64_t base_ts = 1000,
                  kafka::Compression codec = kafka::Compression::kNone,
                  int64_t producer_id = -1, bool transactional = false) {
  std::vector<kafka::Record> out;
  for (size_t i = 0; i < records.size(); ++i) {
    kafka::Record r;
    r.offset_delta = static_cast<int32_t>(i);
    r.timestamp_delta = static_cast<int64_t>(i);
    r.key = records[i].key;
    r.value = records[i].value;
    out.push_back(r);
  }
  kafka::RecordBatchSpec spec;
  spec.base_offset = base;
  spec.compression = codec;
  spec.base_timestamp = base_ts;
  spec.producer_id = producer_id;
  spec.producer_epoch = producer_id >= 0 ? 0 : -1;
  spec.base_sequence = producer_id >= 0 ? 7 : -1;
  spec.transactional = transactional;
  absl::StatusOr<std::string> batch = kafka::BuildRecordBatch(spec, out);
  EXPECT_TRUE(batch.ok()) << batch.status();
  return *batch;
}

// (offset, key, value) of every record of `batch`, after validating it.
std::vector<std::pair<int64_t, Kv>> Contents(const std::string& batch) {
  absl::StatusOr<kafka::RecordBatchView> view = kafka::ParseRecordBatch(batch);
  EXPECT_TRUE(view.ok()) << view.status();
  absl::StatusOr<std::vector<kafka::Record>> records =
      kafka::DecodeRecords(*view);
  EXPECT_TRUE(records.ok()) << records.status();
  std::vector<std::pair<int64_t, Kv>> out;
  for (const kafka::Record& r : *records) {
    out.push_back({view->header.base_offset + r.offset_delta,
                   Kv{r.key.value_or(""), r.value}});
  }
  return out;
}

KeyMap KeysOf(const std::vector<std::string>& batches,
              absl::Span<const AbortedTxn> aborted = {}) {
  KeyMap keys;
  for (const std::string& b : batches) {
    EXPECT_TRUE(CollectKeys(b, aborted, &keys).ok());
  }
  return keys;
}

TEST(CompactionTest, KeepsTheLatestRecordPerKeyAndPreservesOffsets) {
  // c survives at the start of its batch; the batch still ends at offset 2.
  const std::string b0 = Batch(0, {{"c", "1"}, {"a", "1"}, {"b", "1"}});
  const std::string b1 = Batch(3, {{"a", "2"}, {"b", "2"}});
  const KeyMap keys = KeysOf({b0, b1});
  EXPECT_EQ(keys.at("a"), 3);
  EXPECT_EQ(keys.at("c"), 0);
  CleanStats stats;
  absl::StatusOr<std::optional<std::string>> cleaned =
      CleanBatch(b0, keys, {}, CleanRules{.now_ms = 2000}, &stats);
  ASSERT_TRUE(cleaned.ok()) << cleaned.status();
  ASSERT_TRUE(cleaned->has_value());
  const auto contents = Contents(**cleaned);
  ASSERT_EQ(contents.size(), 1u);
  EXPECT_EQ(contents[0].first, 0);  // c keeps its offset
  EXPECT_EQ(contents[0].second.key, "c");
  const kafka::BatchHeader before = kafka::ReadBatchHeader(b0);
  const kafka::BatchHeader after = kafka::ReadBatchHeader(**cleaned);
  EXPECT_EQ(after.base_offset, 0);
  EXPECT_EQ(after.last_offset_delta, before.last_offset_delta);
  EXPECT_EQ(after.max_timestamp, before.max_timestamp);
  EXPECT_EQ(after.record_count, 1);
  EXPECT_EQ(stats.records_removed, 2);
  EXPECT_EQ(stats.records_kept, 1);
  // The last batch is all latest: unchanged.
  cleaned = CleanBatch(b1, keys, {}, CleanRules{.now_ms = 2000}, &stats);
  ASSERT_TRUE(cleaned.ok());
  EXPECT_FALSE(cleaned->has_value());
}

TEST(CompactionTest, AWhollyObsoleteBatchBecomesEmptyWithItsOffsets) {
  const std::string b0 = Batch(10, {{"a", "1"}, {"a", "2"}}, 1000,
                               kafka::Compression::kNone, /*producer_id=*/42);
  const std::string b1 = Batch(12, {{"a", "3"}});
  const KeyMap keys = KeysOf({b0, b1});
  CleanStats stats;
  auto cleaned = CleanBatch(b0, keys, {}, CleanRules{.now_ms = 2000}, &stats);
  ASSERT_TRUE(cleaned.ok() && cleaned->has_value());
  absl::StatusOr<kafka::RecordBatchView> view =
      kafka::ParseRecordBatch(**cleaned);
  ASSERT_TRUE(view.ok()) << view.status();  // CRC and lengths valid
  EXPECT_EQ(view->header.record_count, 0);
  EXPECT_EQ(view->header.base_offset, 10);
  EXPECT_EQ(view->header.last_offset_delta, 1);
  EXPECT_EQ(view->header.producer_id, 42);  // producer state survives replay
  EXPECT_EQ(view->header.base_sequence, 7);
}

TEST(CompactionTest, TombstonesStayForDeleteRetentionThenGo) {
  const std::string b0 = Batch(0, {{"a", "1"}, {"b", "1"}});
  const std::string b1 = Batch(2, {{"a", std::nullopt}}, /*base_ts=*/5000);
  const KeyMap keys = KeysOf({b0, b1});
  CleanStats stats;
  // Young tombstone: kept (the older value of a goes).
  auto young = CleanBatch(
      b1, keys, {}, CleanRules{.now_ms = 5500, .delete_retention_ms = 1000},
      &stats);
  ASSERT_TRUE(young.ok());
  EXPECT_FALSE(young->has_value());
  // Older than delete.retention.ms: dropped, the batch is empty.
  auto old = CleanBatch(b1, keys, {},
                        CleanRules{.now_ms = 6001, .delete_retention_ms = 1000},
                        &stats);
  ASSERT_TRUE(old.ok() && old->has_value());
  EXPECT_TRUE(Contents(**old).empty());
  EXPECT_EQ(stats.tombstones_dropped, 1);
}

TEST(CompactionTest, CompressedBatchesAreRecompressed) {
  const std::string b0 = Batch(0, {{"a", "1"}, {"b", "1"}, {"a", "2"}}, 1000,
                               kafka::Compression::kGzip);
  const KeyMap keys = KeysOf({b0});
  CleanStats stats;
  auto cleaned = CleanBatch(b0, keys, {}, CleanRules{.now_ms = 2000}, &stats);
  ASSERT_TRUE(cleaned.ok() && cleaned->has_value());
  EXPECT_EQ(kafka::ReadBatchHeader(**cleaned).compression(),
            kafka::Compression::kGzip);
  const auto contents = Contents(**cleaned);
  ASSERT_EQ(contents.size(), 2u);
  EXPECT_EQ(contents[0].first, 1);
  EXPECT_EQ(contents[1].first, 2);
  EXPECT_EQ(contents[1].second.value, "2");
}

TEST(CompactionTest, AbortedTransactionsNeitherCountNorSurvive) {
  const std::string committed = Batch(0, {{"a", "good"}});
  const std::string aborted_batch =
      Batch(1, {{"a", "aborted"}}, 1000, kafka::Compression::kNone,
            /*producer_id=*/9, /*transactional=*/true);
  const std::vector<AbortedTxn> aborted = {
      {.producer_id = 9, .first_offset = 1, .last_offset = 2}};
  const KeyMap keys = KeysOf({committed, aborted_batch}, aborted);
  EXPECT_EQ(keys.at("a"), 0);  // the aborted record does not shadow it
  CleanStats stats;
  auto kept = CleanBatch(committed, keys, aborted, CleanRules{}, &stats);
  ASSERT_TRUE(kept.ok());
  EXPECT_FALSE(kept->has_value());
  auto gone = CleanBatch(aborted_batch, keys, aborted, CleanRules{}, &stats);
  ASSERT_TRUE(gone.ok() && gone->has_value());
  EXPECT_TRUE(Contents(**gone).empty());
  EXPECT_TRUE(kafka::ReadBatchHeader(**gone).is_transactional());
}

// A marker of producer 9 written at `timestamp_ms`.
std::string Marker(bool commit, int64_t timestamp_ms) {
  return kafka::BuildTxnMarker(kafka::TxnMarker{.producer_id = 9,
                                                .producer_epoch = 0,
                                                .commit = commit,
                                                .timestamp_ms = timestamp_ms});
}

// Cleans `batches` in order as one pass does; the results (nullopt: kept).
std::vector<std::optional<std::string>> CleanPass(
    const std::vector<std::string>& batches, const KeyMap& keys,
    absl::Span<const AbortedTxn> aborted, const CleanRules& rules,
    CleanStats* stats) {
  std::vector<std::optional<std::string>> out;
  for (const std::string& b : batches) {
    auto cleaned = CleanBatch(b, keys, aborted, rules, stats);
    EXPECT_TRUE(cleaned.ok()) << cleaned.status();
    out.push_back(cleaned.ok() ? *cleaned : std::nullopt);
  }
  return out;
}

TEST(CompactionTest, AMarkerStaysWhileARecordOfItsTransactionDoes) {
  const std::string data =
      Batch(0, {{"a", "1"}}, 1000, kafka::Compression::kNone, 9, true);
  const std::string marker = Marker(/*commit=*/true, 1000);
  const KeyMap keys = KeysOf({data, marker});
  CleanStats stats;
  const auto out = CleanPass(
      {data, marker}, keys, {},
      CleanRules{.now_ms = 1'000'000'000, .delete_retention_ms = 0}, &stats);
  EXPECT_FALSE(out[0].has_value());
  EXPECT_FALSE(out[1].has_value());
  EXPECT_EQ(stats.markers_removed, 0);
  EXPECT_TRUE(stats.txn_kept_record.empty());  // the marker ended it
}

TEST(CompactionTest, AMarkerGoesDeleteRetentionAfterItWasWrittenOnceItsDataIs) {
  for (const bool commit : {true, false}) {
    SCOPED_TRACE(commit ? "commit" : "abort");
    const std::string data =
        Batch(0, {{"a", "old"}}, 1000, kafka::Compression::kNone, 9, true);
    const std::string marker = Marker(commit, 2000);
    const std::string newer = Batch(2, {{"a", "new"}}, 3000);
    const std::vector<AbortedTxn> aborted = {
        {.producer_id = 9, .first_offset = 0, .last_offset = 1}};
    const absl::Span<const AbortedTxn> txns =
        commit ? absl::Span<const AbortedTxn>() : absl::MakeSpan(aborted);
    const KeyMap keys = KeysOf({data, marker, newer}, txns);
    // Within delete.retention.ms of the marker: it stays, and is due then.
    CleanStats early;
    auto out = CleanPass(
        {data, marker, newer}, keys, txns,
        CleanRules{.now_ms = 7000, .delete_retention_ms = 5000}, &early);
    ASSERT_TRUE(out[0].has_value());  // the data record is gone
    EXPECT_FALSE(out[1].has_value());
    EXPECT_EQ(early.oldest_tombstone_ms, 2000);
    // Past it: an empty control batch with the marker's offsets and producer.
    CleanStats late;
    out = CleanPass({*out[0], marker, newer}, keys, txns,
                    CleanRules{.now_ms = 7001, .delete_retention_ms = 5000},
                    &late);
    EXPECT_FALSE(out[0].has_value());  // already empty
    ASSERT_TRUE(out[1].has_value());
    EXPECT_EQ(late.markers_removed, 1);
    const kafka::BatchHeader h = kafka::ReadBatchHeader(*out[1]);
    EXPECT_TRUE(h.is_control());
    EXPECT_EQ(h.record_count, 0);
    EXPECT_EQ(h.last_offset_delta, 0);
    EXPECT_EQ(h.producer_id, 9);
    EXPECT_TRUE(kafka::ParseRecordBatch(*out[1]).ok());  // CRC valid
    EXPECT_TRUE(Contents(*out[1]).empty());
    // A removed marker stays as it is.
    CleanStats again;
    out =
        CleanPass({*out[1]}, keys, txns,
                  CleanRules{.now_ms = 9000, .delete_retention_ms = 0}, &again);
    EXPECT_FALSE(out[0].has_value());
  }
}

TEST(CompactionTest, RecordsWithoutKeyAreKept) {
  const std::string b0 = Batch(0, {{"a", "1"}});
  std::vector<kafka::Record> records(1);
  records[0].value = "no key";
  kafka::RecordBatchSpec spec;
  spec.base_offset = 1;
  const std::string nokey = *kafka::BuildRecordBatch(spec, records);
  const KeyMap keys = KeysOf({b0, nokey});
  CleanStats stats;
  auto cleaned = CleanBatch(nokey, keys, {}, CleanRules{}, &stats);
  ASSERT_TRUE(cleaned.ok());
  EXPECT_FALSE(cleaned->has_value());
}

}  // namespace
}  // namespace chronik::partition
