#include "sim/broker_bugs.h"

#include <vector>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace chronik::sim {

absl::Span<const BrokerBugName> BrokerBugNames() {
  static constexpr BrokerBugName kNames[] = {
      {"metadata_group_of_one", &env::BrokerBugs::metadata_group_of_one},
      {"registration_not_forwarded",
       &env::BrokerBugs::registration_not_forwarded},
      {"derived_http_port", &env::BrokerBugs::derived_http_port},
      {"auto_create_every_request",
       &env::BrokerBugs::auto_create_every_request},
      {"ack_before_commit", &env::BrokerBugs::ack_before_commit},
      {"skip_idempotence_check", &env::BrokerBugs::skip_idempotence_check},
      {"no_leader_without_replica",
       &env::BrokerBugs::no_leader_without_replica},
      {"commit_refused_while_preparing",
       &env::BrokerBugs::commit_refused_while_preparing},
      {"no_session_expiry_while_preparing",
       &env::BrokerBugs::no_session_expiry_while_preparing},
      {"never_fence", &env::BrokerBugs::never_fence},
      {"isr_never_shrinks", &env::BrokerBugs::isr_never_shrinks},
      {"fetch_out_of_range_before_ready",
       &env::BrokerBugs::fetch_out_of_range_before_ready},
      {"ack_at_majority", &env::BrokerBugs::ack_at_majority},
      {"preferred_is_last_replica",
       &env::BrokerBugs::preferred_is_last_replica},
      {"delete_records_beyond_request",
       &env::BrokerBugs::delete_records_beyond_request},
      {"log_start_not_replicated", &env::BrokerBugs::log_start_not_replicated},
      {"joiner_registers_once", &env::BrokerBugs::joiner_registers_once},
      {"joiner_acts_before_learning",
       &env::BrokerBugs::joiner_acts_before_learning},
      {"txn_read_committed_ignores_lso",
       &env::BrokerBugs::txn_read_committed_ignores_lso},
      {"txn_abort_marker_as_commit",
       &env::BrokerBugs::txn_abort_marker_as_commit},
      {"txn_commit_marker_as_abort",
       &env::BrokerBugs::txn_commit_marker_as_abort},
      {"compaction_drops_latest", &env::BrokerBugs::compaction_drops_latest},
  };
  return kNames;
}

std::string TakeBrokerBugs(absl::string_view list,
                           BrokerScenarioOptions* options) {
  std::vector<std::string> rest;
  for (absl::string_view raw : absl::StrSplit(list, ',', absl::SkipEmpty())) {
    const absl::string_view name = absl::StripAsciiWhitespace(raw);
    if (name == "no_idempotence") {
      options->bug_no_idempotence = true;
      continue;
    }
    bool known = false;
    for (const BrokerBugName& bug : BrokerBugNames()) {
      if (name == bug.name) {
        options->broker_bugs.*bug.field = true;
        known = true;
      }
    }
    if (!known) rest.emplace_back(name);
  }
  return absl::StrJoin(rest, ",");
}

}  // namespace chronik::sim
