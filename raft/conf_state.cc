#include "raft/conf_state.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "raft/node_ids.h"

namespace chronik::raft {
namespace {

constexpr uint8_t kConfStateVersion = 1;
constexpr uint8_t kConfStateFlagAutoLeave = 1;
// A list names at most this many nodes (bounds decoding).
constexpr uint32_t kMaxConfStateListNodes = kMaxConfChangeItems;

void PutFixed(std::string* out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) {
    out->push_back(static_cast<char>(value >> (8 * i)));
  }
}

uint64_t GetFixed(std::string_view in, int bytes) {
  uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) {
    value |= static_cast<uint64_t>(static_cast<uint8_t>(in[i])) << (8 * i);
  }
  return value;
}

void PutList(std::string* out, const std::vector<NodeId>& ids) {
  CHRONIK_CHECK_LE(ids.size(), kMaxConfStateListNodes);
  PutFixed(out, ids.size(), 4);
  for (NodeId id : ids) PutFixed(out, id, 8);
}

// Reads one list at *data, advancing it.
absl::StatusOr<std::vector<NodeId>> GetList(std::string_view* data,
                                            const char* name) {
  if (data->size() < 4) {
    return absl::InvalidArgumentError(
        absl::StrCat("conf state: ", name, " count truncated"));
  }
  const uint64_t count = GetFixed(*data, 4);
  data->remove_prefix(4);
  if (count > kMaxConfStateListNodes || data->size() < count * 8) {
    return absl::InvalidArgumentError(
        absl::StrCat("conf state: bad ", name, " count ", count));
  }
  std::vector<NodeId> ids;
  ids.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    ids.push_back(GetFixed(*data, 8));
    data->remove_prefix(8);
  }
  if (!IsSortedSet(ids)) {
    return absl::InvalidArgumentError(
        absl::StrCat("conf state: ", name, " not sorted and unique"));
  }
  return ids;
}

void ApplySingle(const ConfChangeSingle& c, ConfState* conf) {
  switch (c.type) {
    case ConfChangeType::kAddVoter:
      Insert(&conf->voters, c.node_id);
      Erase(&conf->learners, c.node_id);
      Erase(&conf->learners_next, c.node_id);
      break;
    case ConfChangeType::kAddLearner:
      Erase(&conf->voters, c.node_id);
      if (Contains(conf->voters_outgoing, c.node_id)) {
        // A voter until the joint config ends.
        Insert(&conf->learners_next, c.node_id);
      } else {
        Insert(&conf->learners, c.node_id);
      }
      break;
    case ConfChangeType::kRemoveNode:
      Erase(&conf->voters, c.node_id);
      Erase(&conf->learners, c.node_id);
      Erase(&conf->learners_next, c.node_id);
      break;
  }
}

}  // namespace

ConfState NextConfState(const ConfState& conf, const ConfChange& change) {
  ConfState next = conf;
  if (change.changes.empty()) {
    if (next.voters_outgoing.empty()) return next;  // already left
    next.voters_outgoing.clear();
    for (NodeId l : next.learners_next) Insert(&next.learners, l);
    next.learners_next.clear();
    next.auto_leave = false;
    return next;
  }
  if (change.joint || change.changes.size() > 1) {
    next.voters_outgoing = next.voters;
    next.auto_leave = true;
  }
  for (const ConfChangeSingle& c : change.changes) ApplySingle(c, &next);
  return next;
}

std::vector<NodeId> MembersOf(const ConfState& conf) {
  std::vector<NodeId> all = conf.voters;
  all.insert(all.end(), conf.learners.begin(), conf.learners.end());
  all.insert(all.end(), conf.voters_outgoing.begin(),
             conf.voters_outgoing.end());
  all.insert(all.end(), conf.learners_next.begin(), conf.learners_next.end());
  return Sorted(std::move(all));
}

std::string EncodeConfState(const ConfState& conf) {
  std::string out;
  out.push_back(static_cast<char>(kConfStateVersion));
  out.push_back(
      static_cast<char>(conf.auto_leave ? kConfStateFlagAutoLeave : 0));
  PutList(&out, conf.voters);
  PutList(&out, conf.learners);
  PutList(&out, conf.voters_outgoing);
  PutList(&out, conf.learners_next);
  return out;
}

absl::StatusOr<ConfState> DecodeConfState(std::string_view data) {
  if (data.size() < 2 || static_cast<uint8_t>(data[0]) != kConfStateVersion) {
    return absl::InvalidArgumentError("conf state: bad header");
  }
  ConfState conf;
  conf.auto_leave =
      (static_cast<uint8_t>(data[1]) & kConfStateFlagAutoLeave) != 0;
  data.remove_prefix(2);
  std::pair<std::vector<NodeId>*, const char*> lists[] = {
      {&conf.voters, "voters"},
      {&conf.learners, "learners"},
      {&conf.voters_outgoing, "outgoing voters"},
      {&conf.learners_next, "next learners"}};
  for (auto& [list, name] : lists) {
    absl::StatusOr<std::vector<NodeId>> ids = GetList(&data, name);
    if (!ids.ok()) return ids.status();
    *list = *std::move(ids);
  }
  if (!data.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("conf state: ", data.size(), " trailing bytes"));
  }
  if (conf.voters.empty()) {
    return absl::InvalidArgumentError("conf state: no voters");
  }
  return conf;
}

}  // namespace chronik::raft
