// The one conversion between the Raft core's types (raft/types.h) and what
// storage keeps (storage::Entry, storage::HardState).
//
// Entries share their payload: raft::Entry::data and storage::Entry::data are
// the same refcounted immutable buffer (raft::Bytes), so a proposal's bytes
// (a produce request's record batch) go from the Raft log to the LogStore's
// write buffer, and read-back entries to the core, without a copy here. The
// entry type is stored as the core's one-byte value, opaque to storage.
// Kafka offsets (offset_base/offset_count) are storage's own and have no
// counterpart in raft::Entry.
//
// Header-only, pure; thread-safe.
#ifndef CHRONIK_BROKER_STORAGE_RAFT_ENTRY_H_
#define CHRONIK_BROKER_STORAGE_RAFT_ENTRY_H_

#include <cstdint>
#include <utility>

#include "broker/storage/group_log.h"
#include "broker/storage/log_store.h"
#include "raft/types.h"

namespace chronik::storage {

static_assert(sizeof(raft::EntryType) == sizeof(Entry::type),
              "storage keeps the core's entry type in one byte");

inline Entry FromRaftEntry(const raft::Entry& entry) {
  Entry out;
  out.index = entry.index;
  out.term = entry.term;
  out.type = static_cast<uint8_t>(entry.type);
  out.data = entry.data;  // shared, not copied
  return out;
}

inline raft::Entry ToRaftEntry(Entry&& entry) {
  raft::Entry out;
  out.index = entry.index;
  out.term = entry.term;
  out.type = static_cast<raft::EntryType>(entry.type);
  out.data = std::move(entry.data);
  return out;
}

inline raft::Entry ToRaftEntry(const Entry& entry) {
  return ToRaftEntry(Entry(entry));
}

inline HardState FromRaftHardState(const raft::HardState& hs) {
  return HardState{hs.term, hs.vote, hs.commit};
}

inline raft::HardState ToRaftHardState(const HardState& hs) {
  return raft::HardState{hs.term, hs.vote, hs.commit};
}

}  // namespace chronik::storage

#endif  // CHRONIK_BROKER_STORAGE_RAFT_ENTRY_H_
