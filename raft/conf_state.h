// Membership arithmetic shared by the Raft core and its drivers.
//
// What it is for: the core applies a committed ConfChange to its ConfState
// when OnApplied covers it; a driver that must know a group's membership
// without asking the core (RaftHost replaying committed entries on restart,
// or naming the membership of a snapshot it stores) computes it with the same
// function, so the two can never disagree.
//
// Encoding of a ConfState (the opaque membership bytes storage keeps with a
// snapshot, docs/storage-format.md): a version byte 1, a flags byte (bit 0 =
// auto_leave), then four lists in the order voters, learners,
// voters_outgoing, learners_next, each a 4-byte little-endian count followed
// by that many 8-byte little-endian node ids (sorted, unique).
//
// Pure functions; thread-safe.
#ifndef CHRONIK_RAFT_CONF_STATE_H_
#define CHRONIK_RAFT_CONF_STATE_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "raft/types.h"

namespace chronik::raft {

// The membership after applying `change` to `conf` (the change was validated
// when proposed; applying never fails). Entering a joint config (more than
// one change, or `joint`) keeps the old voters as voters_outgoing and sets
// auto_leave; an empty change leaves the joint config (learners_next become
// learners).
ConfState NextConfState(const ConfState& conf, const ConfChange& change);

// Every node the membership names (voters of both halves and learners),
// sorted and unique.
std::vector<NodeId> MembersOf(const ConfState& conf);

std::string EncodeConfState(const ConfState& conf);
// InvalidArgument naming what is wrong for bytes EncodeConfState did not make.
absl::StatusOr<ConfState> DecodeConfState(std::string_view data);

}  // namespace chronik::raft

#endif  // CHRONIK_RAFT_CONF_STATE_H_
