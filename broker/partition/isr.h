// IsrTracker: a partition leader's in-sync replicas in Kafka's sense, from its
// Raft progress.
//
// A follower is in sync while it has caught up with the leader within
// replica.lag.time.max.ms. "Caught up at time t" follows Kafka's rule for
// fetches, with samples of the leader's Raft progress in place of fetches:
// at a sample, a follower heard from since the last check-quorum round whose
// match index reaches the leader's last index of the previous sample was
// caught up at that previous sample's time (and at this sample's time if it
// reaches the current last index). So a follower that stops, or that stays
// behind under load, leaves the ISR once the lag time passes since it was last
// caught up; one that catches up rejoins at the next sample.
//
// A new leader starts with the ISR last committed to the metadata (every
// replica when none was) counted as caught up at its start, as a Kafka leader
// starts from the partition state's ISR. The leader is always in its ISR.
//
// A pure, deterministic value type: time is whatever the caller passes (the
// broker passes its tick time). Owned by the partition's replica; one thread.
#ifndef CHRONIK_BROKER_PARTITION_ISR_H_
#define CHRONIK_BROKER_PARTITION_ISR_H_

#include <cstdint>
#include <map>
#include <vector>

namespace chronik::partition {

// One follower in a sample of the leader's Raft progress.
struct FollowerSample {
  uint64_t id = 0;
  uint64_t match = 0;   // highest log index known to be on the follower
  bool active = false;  // heard from since the last check-quorum round
};

class IsrTracker {
 public:
  // Leadership of `term` began at `now_ms`. `replicas` are the partition's
  // replicas (`self` among them); `committed_isr` the ISR in the metadata
  // (empty: none reported, every replica counts).
  void Start(uint64_t term, uint64_t self,
             const std::vector<uint64_t>& replicas,
             const std::vector<uint64_t>& committed_isr, int64_t now_ms);
  // The term Start() was last called for (0: never).
  uint64_t term() const { return term_; }
  // The replicas Start() was last given, sorted.
  const std::vector<uint64_t>& replicas() const { return replicas_; }

  // One sample at `now_ms` (not before the last): the leader's last log index
  // and its followers' progress. Followers that are not replicas are ignored.
  // `steady`: the leader's group is quiesced (nothing moves until an input
  // wakes it), so later samples at the same last index repeat this one.
  void Observe(int64_t now_ms, uint64_t last_index,
               const std::vector<FollowerSample>& followers,
               bool steady = false);
  // Takes a sample equal to the last one at `now_ms` without building it
  // (a quiesced leader's, at every tick): true when the last one was steady
  // with every follower it lists caught up and active, at `last_index`;
  // false (nothing done) otherwise: the caller observes in full.
  bool Repeat(int64_t now_ms, uint64_t last_index);
  // Repeat, and stand for every later sample too until Release: the caller
  // stops sampling (a quiesced leader's group, until an input wakes it).
  // While holding, every follower caught up at the last sample counts as
  // caught up at any time Isr is asked about, as repeated samples would have
  // it. False (nothing done) when Repeat would be.
  bool Hold(int64_t now_ms, uint64_t last_index);
  bool holding() const { return holding_; }
  // Ends a hold: the samples it stood for were taken up to
  // `last_sample_ms` (the last time the caller would have sampled).
  void Release(int64_t last_sample_ms);

  // The in-sync replicas at `now_ms`: the leader and every follower caught up
  // within `lag_max_ms`; sorted.
  std::vector<uint64_t> Isr(int64_t now_ms, int64_t lag_max_ms) const;

 private:
  uint64_t term_ = 0;
  uint64_t self_ = 0;
  // Follower -> when it was last caught up (absent: not since Start).
  std::map<uint64_t, int64_t> caught_up_ms_;
  std::vector<uint64_t> replicas_;   // sorted
  std::vector<uint64_t> followers_;  // sorted
  bool sampled_ = false;             // a previous sample exists
  uint64_t previous_last_index_ = 0;
  int64_t previous_sample_ms_ = 0;
  // The last sample was steady and had every follower in caught_up_ms_
  // caught up: Repeat may stand for the next one.
  bool repeatable_ = false;
  bool holding_ = false;  // Hold until Release
};

}  // namespace chronik::partition

#endif  // CHRONIK_BROKER_PARTITION_ISR_H_
