// Sorted, duplicate-free lists of node ids (the representation of ConfState's
// lists), and the few set operations Raft needs on them. Internal to raft/.
#ifndef CHRONIK_RAFT_NODE_IDS_H_
#define CHRONIK_RAFT_NODE_IDS_H_

#include <algorithm>
#include <vector>

#include "raft/types.h"

namespace chronik::raft {

inline bool Contains(const std::vector<NodeId>& ids, NodeId id) {
  return std::binary_search(ids.begin(), ids.end(), id);
}

inline void Insert(std::vector<NodeId>* ids, NodeId id) {
  auto it = std::lower_bound(ids->begin(), ids->end(), id);
  if (it == ids->end() || *it != id) ids->insert(it, id);
}

inline void Erase(std::vector<NodeId>* ids, NodeId id) {
  auto it = std::lower_bound(ids->begin(), ids->end(), id);
  if (it != ids->end() && *it == id) ids->erase(it);
}

inline std::vector<NodeId> Sorted(std::vector<NodeId> ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

// Sorted and without duplicates.
inline bool IsSortedSet(const std::vector<NodeId>& ids) {
  return std::adjacent_find(ids.begin(), ids.end(), [](NodeId a, NodeId b) {
           return a >= b;
         }) == ids.end();
}

}  // namespace chronik::raft

#endif  // CHRONIK_RAFT_NODE_IDS_H_
