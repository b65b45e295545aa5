// TEST-ONLY. Deliberate broker bugs the simulator (sim/, `--bug=NAME`)
// switches on to prove that its checkers catch each one. Production configs
// leave every field false; nothing outside the simulator and its tests sets
// them. Each bug names the checker rule expected to catch it.
//
// The first four are the failures of the system this project replaces
// (../shared/seed): they must be impossible in production and caught within
// seconds of simulated time if they return.
#ifndef CHRONIK_BROKER_ENV_INJECTED_BUGS_H_
#define CHRONIK_BROKER_ENV_INJECTED_BUGS_H_

namespace chronik::env {

struct BrokerBugs {
  // Seed bug 1: every node bootstraps a metadata group of its own (itself as
  // the only voter), so each elects itself. Caught by "one metadata leader
  // per term" and "every broker registered".
  bool metadata_group_of_one = false;
  // Seed bug 2: a follower never forwards its registration to the metadata
  // leader. Caught by "every live broker is registered".
  bool registration_not_forwarded = false;
  // Seed bug 3: the HTTP listener's port is derived from the Kafka port
  // (kafka + 1) instead of configured, so on one host it lands on a
  // neighbour's Kafka port. Caught by "every broker is running after heal"
  // (the bind fails with EADDRINUSE).
  bool derived_http_port = false;
  // Seed bug 4: a creation of a missing topic is sent again on every request
  // that names it (no in-flight check, no retry interval). Caught by "an
  // auto-created topic is created once" (bounded proposals per topic).
  bool auto_create_every_request = false;

  // Broker bugs of this project's own kinds.
  // acks=all is answered once the leader appended the batch, before it is
  // committed. Caught as LOST (acknowledged, never readable) after a failover.
  bool ack_before_commit = false;
  // The idempotent producer's sequence check is skipped: a retried batch is
  // stored again. Caught as DUPLICATE.
  bool skip_idempotence_check = false;
  // Metadata from a broker that holds no replica of a partition names no
  // leader for it (this project's own defect, fixed): it ignores the leader
  // the metadata state records. Caught by the leader audit.
  bool no_leader_without_replica = false;
  // The group coordinator refuses OffsetCommit of the current generation
  // while a rebalance is being prepared (this project's defect, fixed): the
  // member's commit before giving up its partitions fails and the next owner
  // re-reads. Caught by COMMIT REFUSED / DUPLICATE DELIVERY.
  bool commit_refused_while_preparing = false;
  // Sessions do not expire while a rebalance is being prepared (defect,
  // fixed): a member that died holds the round until the rebalance timeout.
  // Caught by the group's liveness.
  bool no_session_expiry_while_preparing = false;
  // A new leader that has not applied its inherited log answers
  // OFFSET_OUT_OF_RANGE for offsets beyond its high watermark (defect,
  // fixed): the consumer resets its position. Caught by the group checker.
  bool fetch_out_of_range_before_ready = false;
  // The controller never fences a silent broker: a dead broker stays in
  // Metadata (the defect "dead brokers stay in Metadata", fixed). Caught by
  // the cluster checker's FENCING rule.
  bool never_fence = false;
  // A partition leader never drops a follower from its ISR (the lag bound
  // replica.lag.time.max.ms is never applied: the defect "the ISR never
  // shrinks", fixed). Caught by the cluster checker's ISR rule.
  bool isr_never_shrinks = false;
  // acks=all is answered at the Raft commit (a majority) even when
  // min.insync.replicas asks for more copies (the defect "acks=all promises a
  // majority, not min.insync.replicas", fixed). Caught by the replica
  // checker's UNDER-REPLICATED ACK rule on seeds with min.insync above a
  // majority.
  bool ack_at_majority = false;
  // The preferred replica is taken to be the last replica, not the first:
  // ElectLeaders and the leader balancer move leadership to the wrong node.
  // Caught by the cluster checker's PREFERRED LEADER rule.
  bool preferred_is_last_replica = false;
  // DeleteRecords moves the log start one offset further than asked (when
  // the high watermark allows): an acknowledged record the client did not
  // delete is gone. Caught by the Kafka checker's LOG START BEYOND REQUEST
  // rule (the log start a broker reports must not pass what DeleteRecords
  // asked for, on topics without retention).
  bool delete_records_beyond_request = false;
  // Only the leader that took DeleteRecords moves its log start; the other
  // replicas ignore the log start entry (as if the log start were not
  // replicated): after a failover the records come back. Caught by the
  // Kafka checker's LOG START WENT BACK rule.
  bool log_start_not_replicated = false;
  // A broker started with --join registers once and then waits silently to
  // be added to the metadata group, and the controller hears a broker only
  // through Raft messages, not its forwarded commands: a controller with a
  // short session timeout fences the joiner before it is added, and a
  // fenced broker is never added (the deadlock the simulator found, seed
  // 38). Caught by MEMBERSHIP.
  bool joiner_registers_once = false;
  // A joiner acts on its empty metadata before it installed the
  // controller's snapshot (topics look unknown, so it auto-creates them) and,
  // knowing no leader, sends every forwarded command (not only its
  // registration) to every peer: its auto-creations flood the controller.
  // Caught by the cluster checker's CREATE FLOOD rule.
  bool joiner_acts_before_learning = false;
  // Fetch with read_committed reads up to the high watermark instead of the
  // last stable offset: records of open transactions reach read_committed
  // consumers before their outcome is known. Caught by the TxnChecker's
  // ABORTED READ (a tailing consumer reads a transaction later aborted).
  bool txn_read_committed_ignores_lso = false;
  // Partition leaders write every transaction marker as a commit marker,
  // also for aborted transactions. Caught by ABORTED READ.
  bool txn_abort_marker_as_commit = false;
  // ... and every marker as an abort marker, also for committed
  // transactions. Caught by TORN TXN (a committed transaction's records are
  // missing from what read_committed consumers get).
  bool txn_commit_marker_as_abort = false;
  // Log compaction's key map is off by one (each key's last offset + 1):
  // every keyed record of the cleaned range is removed, the latest of each
  // key too. Caught by the Kafka checker's COMPACTED LOST rule
  // (sim/compaction_checker.h).
  bool compaction_drops_latest = false;

  bool any() const {
    return metadata_group_of_one || registration_not_forwarded ||
           derived_http_port || auto_create_every_request ||
           ack_before_commit || skip_idempotence_check || never_fence ||
           isr_never_shrinks || no_leader_without_replica ||
           commit_refused_while_preparing ||
           no_session_expiry_while_preparing ||
           fetch_out_of_range_before_ready || ack_at_majority ||
           preferred_is_last_replica || delete_records_beyond_request ||
           log_start_not_replicated || joiner_registers_once ||
           joiner_acts_before_learning || txn_read_committed_ignores_lso ||
           txn_abort_marker_as_commit || txn_commit_marker_as_abort ||
           compaction_drops_latest;
  }
};

}  // namespace chronik::env

#endif  // CHRONIK_BROKER_ENV_INJECTED_BUGS_H_
