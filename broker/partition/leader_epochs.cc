#include "broker/partition/leader_epochs.h"

#include <iterator>

#include "base/check.h"

namespace chronik::partition {

void LeaderEpochs::Assign(int32_t epoch, int64_t offset) {
  CHRONIK_CHECK_GE(epoch, 0);
  CHRONIK_CHECK_GE(offset, 0);
  if (!epochs_.empty()) {
    const auto& [last_epoch, last_start] = *epochs_.rbegin();
    CHRONIK_CHECK_GE(epoch, last_epoch) << "leader epochs decrease";
    CHRONIK_CHECK_GE(offset, last_start) << "epoch start offsets decrease";
    if (epoch == last_epoch) return;
  }
  // Epochs that wrote nothing start where this one does: they go.
  while (!epochs_.empty() && epochs_.rbegin()->second >= offset) {
    epochs_.erase(std::prev(epochs_.end()));
  }
  epochs_[epoch] = offset;
  if (epochs_.size() > kMaxLeaderEpochs) epochs_.erase(epochs_.begin());
}

void LeaderEpochs::TruncateFromStart(int64_t offset) {
  std::optional<int32_t> holder;
  while (!epochs_.empty() && epochs_.begin()->second <= offset) {
    holder = epochs_.begin()->first;
    epochs_.erase(epochs_.begin());
  }
  if (holder.has_value()) epochs_[*holder] = offset;
}

void LeaderEpochs::Reset(int32_t epoch, int64_t offset) {
  CHRONIK_CHECK_GE(epoch, 0);
  CHRONIK_CHECK_GE(offset, 0);
  epochs_.clear();
  epochs_[epoch] = offset;
}

std::vector<EpochStart> LeaderEpochs::All() const {
  std::vector<EpochStart> all;
  all.reserve(epochs_.size());
  for (const auto& [epoch, start] : epochs_) {
    all.push_back(EpochStart{epoch, start});
  }
  return all;
}

bool LeaderEpochs::Restore(const std::vector<EpochStart>& all) {
  for (size_t i = 0; i < all.size(); ++i) {
    if (all[i].epoch < 0 || all[i].start_offset < 0 ||
        (i > 0 && (all[i].epoch <= all[i - 1].epoch ||
                   all[i].start_offset < all[i - 1].start_offset))) {
      return false;
    }
  }
  epochs_.clear();
  for (const EpochStart& e : all) epochs_[e.epoch] = e.start_offset;
  return true;
}

EpochEnd LeaderEpochs::EndOffsetFor(int32_t requested, int64_t log_end) const {
  if (requested == kUndefinedEpoch || epochs_.empty()) return EpochEnd{};
  if (epochs_.rbegin()->first == requested) return EpochEnd{requested, log_end};
  const auto higher = epochs_.upper_bound(requested);
  if (higher == epochs_.end()) return EpochEnd{};  // newer than every epoch
  if (higher == epochs_.begin()) {
    // Older than every known epoch: its data is gone; the log continues
    // from the first epoch kept.
    return EpochEnd{requested, higher->second};
  }
  return EpochEnd{std::prev(higher)->first, higher->second};
}

int32_t LeaderEpochs::EpochForOffset(int64_t offset) const {
  int32_t found = kUndefinedEpoch;
  for (const auto& [epoch, start] : epochs_) {
    if (start > offset) break;
    found = epoch;
  }
  return found;
}

std::optional<EpochStart> LeaderEpochs::earliest() const {
  if (epochs_.empty()) return std::nullopt;
  return EpochStart{epochs_.begin()->first, epochs_.begin()->second};
}

std::optional<EpochStart> LeaderEpochs::latest() const {
  if (epochs_.empty()) return std::nullopt;
  return EpochStart{epochs_.rbegin()->first, epochs_.rbegin()->second};
}

}  // namespace chronik::partition
