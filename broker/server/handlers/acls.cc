// CreateAcls, DescribeAcls, DeleteAcls and the SCRAM credential APIs
// (KIP-554): judged here against the committed state, stored by a metadata
// command (security_state.h) proposed on the metadata leader (others answer
// NOT_CONTROLLER). Each needs its cluster operation (authorizer.h).
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "broker/kafka/errors.h"
#include "broker/server/handlers/handlers.h"
#include "broker/server/scram.h"

namespace chronik::broker {
namespace {

int16_t WriteGate(Services& s, const RequestContext& c) {
  if (!ClusterAllowed(s, c)) return kafka::error::kClusterAuthorizationFailed;
  if (!s.metadata.is_leader()) return kafka::error::kNotController;
  return kafka::error::kNone;
}

template <typename F>
acl::Filter ToFilter(const F& f) {
  return {f.resource_type_filter, f.resource_name_filter, f.pattern_type_filter,
          f.principal_filter,     f.host_filter,          f.operation,
          f.permission_type};
}

// Proposes `command`; `answer(error)` runs once it is applied (or failed).
template <typename Answer>
void ProposeThen(Services& s, const metapb::MetadataCommand& command,
                 Answer answer) {
  s.metadata.Propose(command, [answer](const metadata::ApplyResult* result) {
    answer(result == nullptr ? kafka::error::kNotController
                             : result->error_code);
  });
}

}  // namespace

void Handle(Services& s, const RequestContext& c, kafka::CreateAclsRequest& r) {
  auto response = std::make_shared<kafka::CreateAclsResponse>();
  const int16_t gate = WriteGate(s, c);
  metapb::MetadataCommand command;
  for (const auto& creation : r.creations) {
    metapb::AclBinding binding;
    binding.set_resource_type(creation.resource_type);
    binding.set_resource_name(creation.resource_name);
    binding.set_pattern_type(creation.resource_pattern_type);
    binding.set_principal(creation.principal);
    binding.set_host(creation.host);
    binding.set_operation(creation.operation);
    binding.set_permission_type(creation.permission_type);
    auto& result = response->results.emplace_back();
    const absl::Status valid = acl::ValidateBinding(binding);
    if (gate != kafka::error::kNone) {
      result.error_code = gate;
    } else if (!valid.ok()) {
      result.error_code = kafka::error::kInvalidRequest;
      result.error_message = std::string(valid.message());
    } else {
      *command.mutable_create_acls()->add_acls() = binding;
    }
  }
  if (!command.has_create_acls()) {
    s.connections.Finish(c, *response);
    return;
  }
  ProposeThen(s, command, [&s, c, response](int16_t error) {
    for (auto& result : response->results) {
      if (result.error_code == kafka::error::kNone) result.error_code = error;
    }
    s.connections.Finish(c, *response);
  });
}

void Handle(Services& s, const RequestContext& c,
            kafka::DescribeAclsRequest& r) {
  kafka::DescribeAclsResponse response;
  const acl::Filter filter = ToFilter(r);
  if (!ClusterAllowed(s, c)) {
    response.error_code = kafka::error::kClusterAuthorizationFailed;
  } else if (absl::Status valid = acl::ValidateFilter(filter); !valid.ok()) {
    response.error_code = kafka::error::kInvalidRequest;
    response.error_message = std::string(valid.message());
  } else {
    for (const metapb::AclBinding* b : s.state().security().Acls()) {
      if (!acl::FilterMatches(filter, *b)) continue;
      // Bindings are sorted by resource: one entry per resource.
      if (response.resources.empty() ||
          response.resources.back().resource_type != b->resource_type() ||
          response.resources.back().resource_name != b->resource_name() ||
          response.resources.back().pattern_type != b->pattern_type()) {
        auto& resource = response.resources.emplace_back();
        resource.resource_type = static_cast<int8_t>(b->resource_type());
        resource.resource_name = b->resource_name();
        resource.pattern_type = static_cast<int8_t>(b->pattern_type());
      }
      response.resources.back().acls.push_back(
          {b->principal(), b->host(), static_cast<int8_t>(b->operation()),
           static_cast<int8_t>(b->permission_type())});
    }
  }
  s.connections.Finish(c, response, response.error_code != 0);
}

void Handle(Services& s, const RequestContext& c, kafka::DeleteAclsRequest& r) {
  auto response = std::make_shared<kafka::DeleteAclsResponse>();
  const int16_t gate = WriteGate(s, c);
  metapb::MetadataCommand command;
  std::set<const metapb::AclBinding*> taken;
  for (const auto& f : r.filters) {
    auto& result = response->filter_results.emplace_back();
    const acl::Filter filter = ToFilter(f);
    if (gate != kafka::error::kNone) {
      result.error_code = gate;
      continue;
    }
    if (absl::Status valid = acl::ValidateFilter(filter); !valid.ok()) {
      result.error_code = kafka::error::kInvalidRequest;
      result.error_message = std::string(valid.message());
      continue;
    }
    for (const metapb::AclBinding* b : s.state().security().Acls()) {
      if (!acl::FilterMatches(filter, *b)) continue;
      auto& match = result.matching_acls.emplace_back();
      match.resource_type = static_cast<int8_t>(b->resource_type());
      match.resource_name = b->resource_name();
      match.pattern_type = static_cast<int8_t>(b->pattern_type());
      match.principal = b->principal();
      match.host = b->host();
      match.operation = static_cast<int8_t>(b->operation());
      match.permission_type = static_cast<int8_t>(b->permission_type());
      if (taken.insert(b).second) {
        *command.mutable_delete_acls()->add_acls() = *b;
      }
    }
  }
  if (!command.has_delete_acls()) {
    s.connections.Finish(c, *response);
    return;
  }
  ProposeThen(s, command, [&s, c, response](int16_t error) {
    for (auto& result : response->filter_results) {
      if (result.error_code == kafka::error::kNone) result.error_code = error;
    }
    s.connections.Finish(c, *response);
  });
}

void Handle(Services& s, const RequestContext& c,
            kafka::DescribeUserScramCredentialsRequest& r) {
  kafka::DescribeUserScramCredentialsResponse response;
  if (!ClusterAllowed(s, c)) {
    response.error_code = kafka::error::kClusterAuthorizationFailed;
    s.connections.Finish(c, response, true);
    return;
  }
  const auto all = s.state().security().Credentials();
  std::vector<std::string> users;
  if (r.users.has_value()) {
    for (const auto& user : *r.users) users.push_back(user.name);
  } else {
    for (const metapb::ScramCredential* credential : all) {
      if (users.empty() || users.back() != credential->user()) {
        users.push_back(credential->user());
      }
    }
  }
  std::set<std::string> seen;
  for (const std::string& user : users) {
    auto& result = response.results.emplace_back();
    result.user = user;
    if (!seen.insert(user).second) {
      result.error_code = kafka::error::kDuplicateResource;
      result.error_message = "user named twice";
      continue;
    }
    for (const metapb::ScramCredential* credential : all) {
      if (credential->user() != user) continue;
      result.credential_infos.push_back(
          {static_cast<int8_t>(credential->mechanism()),
           credential->iterations()});
    }
    if (result.credential_infos.empty()) {
      result.error_code = kafka::error::kResourceNotFound;
      result.error_message = absl::StrCat("no SCRAM credential for ", user);
    }
  }
  s.connections.Finish(c, response);
}

namespace {

// KIP-554's checks of one alteration; NONE or the code with a message.
std::pair<int16_t, std::string> JudgeScram(const std::string& user,
                                           int mechanism, int iterations,
                                           bool upsert, absl::string_view salt,
                                           absl::string_view salted) {
  if (user.empty()) {
    return {kafka::error::kUnacceptableCredential, "empty user name"};
  }
  if (metadata::ScramMechanismName(mechanism)[0] == '\0') {
    return {kafka::error::kUnsupportedSaslMechanism,
            absl::StrCat("unknown SCRAM mechanism ", mechanism)};
  }
  if (!upsert) return {kafka::error::kNone, ""};
  if (iterations < metadata::kMinScramIterations ||
      iterations > metadata::kMaxScramIterations) {
    return {kafka::error::kUnacceptableCredential,
            absl::StrCat("iterations ", iterations, " not in [",
                         metadata::kMinScramIterations, ", ",
                         metadata::kMaxScramIterations, "]")};
  }
  if (salt.empty() || salted.size() != scram::Hash(mechanism, "").size()) {
    return {kafka::error::kUnacceptableCredential,
            "empty salt or a salted password of the wrong length"};
  }
  return {kafka::error::kNone, ""};
}

}  // namespace

void Handle(Services& s, const RequestContext& c,
            kafka::AlterUserScramCredentialsRequest& r) {
  auto response = std::make_shared<kafka::AlterUserScramCredentialsResponse>();
  const int16_t gate = WriteGate(s, c);
  // Per user (sorted): the first error of any of its alterations.
  std::map<std::string, std::pair<int16_t, std::string>> verdicts;
  std::set<std::pair<std::string, int>> named;
  metapb::AlterScramCredentials alter;
  auto judge = [&](const std::string& user, int mechanism,
                   std::pair<int16_t, std::string> verdict) {
    if (verdict.first == kafka::error::kNone &&
        !named.insert({user, mechanism}).second) {
      verdict = {kafka::error::kDuplicateResource,
                 "a user and mechanism named twice"};
    }
    if (gate != kafka::error::kNone) verdict = {gate, ""};
    auto [it, fresh] = verdicts.emplace(user, verdict);
    if (!fresh && it->second.first == kafka::error::kNone) it->second = verdict;
  };
  for (const auto& d : r.deletions) {
    auto verdict = JudgeScram(d.name, d.mechanism, 0, false, "", "");
    if (verdict.first == kafka::error::kNone &&
        s.state().security().FindCredential(d.name, d.mechanism) == nullptr) {
      verdict = {kafka::error::kResourceNotFound,
                 absl::StrCat("no credential of ", d.name)};
    }
    judge(d.name, d.mechanism, verdict);
  }
  for (const auto& u : r.upsertions) {
    judge(u.name, u.mechanism,
          JudgeScram(u.name, u.mechanism, u.iterations, true, u.salt,
                     u.salted_password));
  }
  for (const auto& d : r.deletions) {
    if (verdicts[d.name].first != kafka::error::kNone) continue;
    auto* deletion = alter.add_deletions();
    deletion->set_user(d.name);
    deletion->set_mechanism(d.mechanism);
  }
  for (const auto& u : r.upsertions) {
    if (verdicts[u.name].first != kafka::error::kNone) continue;
    *alter.add_upsertions() = scram::MakeCredential(
        u.name, u.mechanism, u.salt, u.iterations, u.salted_password);
  }
  for (const auto& [user, verdict] : verdicts) {
    auto& result = response->results.emplace_back();
    result.user = user;
    result.error_code = verdict.first;
    if (!verdict.second.empty()) result.error_message = verdict.second;
  }
  if (alter.deletions().empty() && alter.upsertions().empty()) {
    s.connections.Finish(c, *response);
    return;
  }
  metapb::MetadataCommand command;
  *command.mutable_alter_scram_credentials() = std::move(alter);
  ProposeThen(s, command, [&s, c, response](int16_t error) {
    for (auto& result : response->results) {
      if (result.error_code == kafka::error::kNone) result.error_code = error;
    }
    s.connections.Finish(c, *response);
  });
}

}  // namespace chronik::broker
