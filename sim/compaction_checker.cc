#include "sim/compaction_checker.h"

#include <algorithm>
#include <iterator>

#include "absl/strings/str_cat.h"

namespace chronik::sim {

void CompactionChecker::OnSend(const std::string& value,
                               const std::string& key) {
  if (on_) key_of_.emplace(value, key);
}

void CompactionChecker::OnTransactionalSend(const std::string& value) {
  if (on_) transactional_.insert(value);
}

void CompactionChecker::OnRead(int partition, int64_t offset,
                               const std::string& key,
                               const std::string& value) {
  if (!on_) return;
  auto last = last_read_.find(partition);
  if (last != last_read_.end() && offset <= last->second && !anomaly_) {
    anomaly_ =
        absl::StrCat("COMPACTION ORDER: partition ", partition, " offset ",
                     offset, " (", value, ") read after offset ", last->second);
  }
  last_read_[partition] = offset;
  auto sent = key_of_.find(value);
  if (sent != key_of_.end() && sent->second != key && !anomaly_) {
    anomaly_ = absl::StrCat("WRONG KEY: partition ", partition, " offset ",
                            offset, " holds ", value, " with key '", key,
                            "', sent with key '", sent->second, "'");
  }
  int64_t& latest = latest_read_[partition][key];
  latest = std::max(latest, offset);
}

void CompactionChecker::OnBatch(int partition, int64_t first, int64_t last) {
  if (!on_) return;
  int64_t& end = batches_[partition][first];
  end = std::max(end, last);
}

bool CompactionChecker::CompactedAway(int partition, int64_t offset,
                                      const std::string& value) const {
  if (!on_) return false;
  if (transactional_.count(value) > 0) return true;
  auto key = key_of_.find(value);
  if (key == key_of_.end()) return false;
  auto keys = latest_read_.find(partition);
  if (keys == latest_read_.end()) return false;
  auto latest = keys->second.find(key->second);
  return latest != keys->second.end() && latest->second > offset;
}

bool CompactionChecker::Covered(int partition, int64_t offset) const {
  if (!on_) return false;
  auto it = batches_.find(partition);
  if (it == batches_.end()) return false;
  auto batch = it->second.upper_bound(offset);  // first batch after offset
  if (batch == it->second.begin()) return false;
  batch = std::prev(batch);
  return batch->first <= offset && offset <= batch->second;
}

}  // namespace chronik::sim
