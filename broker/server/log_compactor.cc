#include "broker/server/log_compactor.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "broker/metadata/topic_config.h"
#include "broker/partition/compaction.h"

namespace chronik::broker {
namespace {

using Summary = storage::GroupLog::SegmentSummary;

absl::string_view PayloadOf(const storage::Entry& entry) {
  return absl::string_view(entry.data.data(), entry.data.size());
}

// The sealed segments from the start of the log that a pass may clean: all
// applied here, all below `limit_offset` (min of high watermark and LSO).
std::vector<Summary> CleanableSegments(absl::Span<const Summary> segs,
                                       uint64_t applied_index,
                                       int64_t limit_offset) {
  std::vector<Summary> out;
  for (const Summary& seg : segs) {
    if (seg.active || seg.damaged || seg.last_index > applied_index ||
        seg.next_offset > static_cast<uint64_t>(limit_offset)) {
      break;
    }
    if (seg.last_index >= seg.first_index) out.push_back(seg);
  }
  return out;
}

absl::Status ReadSegment(storage::GroupLog& log, const Summary& seg,
                         std::vector<storage::Entry>* entries) {
  entries->clear();
  absl::Status read =
      log.Read(seg.first_index, seg.last_index + 1, ~uint64_t{0}, entries);
  if (read.ok() && entries->size() != seg.last_index - seg.first_index + 1) {
    return absl::DataLossError(
        absl::StrCat("segment at ", seg.first_index, " read short"));
  }
  return read;
}

}  // namespace

absl::Status LogCompactor::Roll(const metapb::TopicInfo& topic, int64_t now_ms,
                                storage::GroupLog& log) {
  const bool compacts = metadata::CleanupCompact(topic);
  const bool has_segment_ms =
      compacts || metadata::HasTopicConfig(topic, "segment.ms");
  const bool has_segment_bytes =
      metadata::HasTopicConfig(topic, "segment.bytes");
  log.SetRollLimits(has_segment_bytes
                        ? static_cast<uint64_t>(metadata::SegmentBytes(topic))
                        : 0,
                    has_segment_ms ? metadata::SegmentMs(topic) : 0);
  return log.RollIfOlder(now_ms).status();
}

void LogCompactor::Forget(uint64_t group_id) { groups_.erase(group_id); }

absl::Status LogCompactor::MaybeCompact(const metapb::TopicInfo& topic,
                                        PartitionReplica& replica,
                                        int64_t now_ms,
                                        storage::GroupLog& log) {
  if (!metadata::CleanupCompact(topic)) return absl::OkStatus();
  auto [it, fresh] = groups_.try_emplace(replica.group_id());
  GroupState& state = it->second;
  if (fresh) {
    // Restarted (or new here): what the last pass cleaned, and one pass soon
    // for tombstones that may be due (their times were not kept).
    state.cleaned_offset = log.ReadCleanerCheckpoint();
    state.tombstone_due_ms = 0;
    replica.ForgetAbortedBelow(state.cleaned_offset);
  }
  const std::vector<Summary> all = log.Segments();
  const int64_t limit =
      std::min(replica.high_watermark(), replica.last_stable_offset());
  const std::vector<Summary> segs =
      CleanableSegments(all, replica.applied_index(), limit);
  uint64_t clean = 0;
  uint64_t total = 0;
  for (const Summary& seg : segs) {
    total += seg.bytes;
    if (seg.next_offset <= static_cast<uint64_t>(state.cleaned_offset)) {
      clean += seg.bytes;
    }
  }
  const uint64_t dirty = total - clean;
  const bool ratio_due =
      dirty > 0 &&
      static_cast<double>(dirty) >=
          metadata::MinCleanableDirtyRatio(topic) * static_cast<double>(total);
  if (!ratio_due && now_ms < state.tombstone_due_ms) return absl::OkStatus();
  absl::Status compacted = Compact(replica, topic, now_ms, segs, log, state);
  replica.ForgetAbortedBelow(state.cleaned_offset);
  return compacted;
}

absl::Status LogCompactor::Compact(const PartitionReplica& replica,
                                   const metapb::TopicInfo& topic,
                                   int64_t now_ms,
                                   absl::Span<const Summary> segs,
                                   storage::GroupLog& log, GroupState& state) {
  if (segs.empty()) return absl::OkStatus();
  const std::vector<partition::AbortedTxn> aborted =
      replica.txn().AbortedIn(static_cast<int64_t>(segs.front().first_offset),
                              static_cast<int64_t>(segs.back().next_offset));
  // Pass 1: the last offset of every key in the dirty segments covered.
  partition::KeyMap keys;
  absl::StatusOr<size_t> covered =
      BuildKeyMap(segs, state.cleaned_offset, aborted, log, &keys);
  if (!covered.ok()) return covered.status();
  segs = segs.subspan(0, *covered);
  std::vector<storage::Entry> entries;
  if (drops_latest_) {  // TEST-ONLY injected bug
    for (auto& [key, offset] : keys) ++offset;
  }
  // Pass 2: each segment without its obsolete records.
  const partition::CleanRules rules{
      .now_ms = now_ms,
      .delete_retention_ms = metadata::DeleteRetentionMs(topic)};
  partition::CleanStats stats;
  for (const Summary& seg : segs) {
    if (absl::Status s = ReadSegment(log, seg, &entries); !s.ok()) return s;
    bool changed = false;
    for (storage::Entry& entry : entries) {
      if (entry.offset_count == 0) continue;
      absl::StatusOr<std::optional<std::string>> cleaned =
          partition::CleanBatch(PayloadOf(entry), keys, aborted, rules, &stats);
      if (!cleaned.ok()) return cleaned.status();
      if (!cleaned->has_value()) continue;
      entry.data = raft::Bytes::Own(std::move(**cleaned));
      changed = true;
    }
    if (!changed) continue;
    if (absl::Status s = log.RewriteSegment(seg.first_index, entries);
        !s.ok()) {
      return s;
    }
    ++totals_.segments_rewritten;
    totals_.bytes_before += seg.bytes;
    for (const Summary& now : log.Segments()) {
      if (now.first_index == seg.first_index) totals_.bytes_after += now.bytes;
    }
  }
  ++totals_.passes;
  totals_.records_removed += static_cast<uint64_t>(stats.records_removed);
  totals_.markers_removed += static_cast<uint64_t>(stats.markers_removed);
  const int64_t cleaned = static_cast<int64_t>(segs.back().next_offset);
  if (cleaned != state.cleaned_offset) {
    if (absl::Status s = log.WriteCleanerCheckpoint(cleaned); !s.ok()) {
      return s;
    }
  }
  state.cleaned_offset = cleaned;
  state.tombstone_due_ms =
      stats.oldest_tombstone_ms >= INT64_MAX - rules.delete_retention_ms - 1
          ? INT64_MAX
          : stats.oldest_tombstone_ms + rules.delete_retention_ms + 1;
  return absl::OkStatus();
}

absl::StatusOr<size_t> LogCompactor::BuildKeyMap(
    absl::Span<const Summary> segs, int64_t cleaned_offset,
    absl::Span<const partition::AbortedTxn> aborted, storage::GroupLog& log,
    partition::KeyMap* keys) {
  size_t first_dirty = 0;
  while (first_dirty < segs.size() &&
         segs[first_dirty].next_offset <=
             static_cast<uint64_t>(cleaned_offset)) {
    ++first_dirty;
  }
  std::vector<storage::Entry> entries;
  for (size_t i = first_dirty; i < segs.size(); ++i) {
    if (absl::Status s = ReadSegment(log, segs[i], &entries); !s.ok()) {
      return s;
    }
    partition::KeyMap seg_keys;
    for (const storage::Entry& entry : entries) {
      if (entry.offset_count == 0) continue;  // a log start entry
      absl::Status s =
          partition::CollectKeys(PayloadOf(entry), aborted, &seg_keys);
      if (!s.ok()) return s;
    }
    size_t added = 0;
    for (const auto& [key, offset] : seg_keys) added += keys->count(key) == 0;
    if (i > first_dirty && keys->size() + added > max_keys_per_pass_) {
      ++totals_.bounded_passes;
      return i;
    }
    ++totals_.segments_mapped;
    // A later segment's offsets are higher: they replace the earlier ones.
    for (auto& [key, offset] : seg_keys) (*keys)[key] = offset;
  }
  return segs.size();
}

}  // namespace chronik::broker
