#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "broker/server/handlers/handlers.h"

namespace chronik::broker {

namespace {

// The authentication gate: a SASL connection runs nothing but ApiVersions
// and the SASL APIs before it authenticated, and once its session expired
// (KIP-368) nothing but the SASL APIs (re-authentication); else it is
// closed, as Kafka does.
bool Admit(Services& s, const RequestContext& c) {
  const SaslSession* session = s.connections.sasl(c.connection);
  if (session == nullptr) return false;
  const int16_t key = c.header.api_key;
  const bool sasl_api = key == kafka::SaslHandshakeRequest::kApiKey ||
                        key == kafka::SaslAuthenticateRequest::kApiKey;
  const kafka::ApiInfo* api = kafka::FindApi(key);
  const char* name = api == nullptr ? "a request" : api->name;
  if (session->required && !session->authenticated && !sasl_api &&
      key != kafka::ApiVersionsRequest::kApiKey) {
    s.connections.Close(c.connection,
                        absl::StrCat(name, " before SASL authentication"));
    return false;
  }
  if (session->expires_ms > 0 && s.NowMs() >= session->expires_ms &&
      !sasl_api) {
    s.connections.Close(c.connection,
                        absl::StrCat(name,
                                     " after the SASL session expired "
                                     "(connections.max.reauth.ms)"));
    return false;
  }
  return true;
}

}  // namespace

void Dispatch(Services& s, const RequestContext& c,
              kafka::AnyRequest& request) {
  if (!Admit(s, c)) return;
  std::visit([&](auto& r) { Handle(s, c, r); }, request);
}

bool Allowed(Services& s, const RequestContext& c, int8_t operation,
             const Resource& resource) {
  return s.security->authorizer().Authorize(s.state().security(), c.principal,
                                            HostOf(c.client_host), operation,
                                            resource);
}

bool ClusterAllowed(Services& s, const RequestContext& c) {
  std::optional<int8_t> operation = ClusterOperationFor(c.header.api_key);
  return !operation.has_value() ||
         Allowed(s, c, *operation, {acl::kCluster, acl::kClusterName});
}

int16_t GroupAccess(Services& s, const RequestContext& c, int8_t operation,
                    const std::string& group) {
  return Allowed(s, c, operation, {acl::kGroup, group})
             ? kafka::error::kNone
             : kafka::error::kGroupAuthorizationFailed;
}

int16_t TopicAccess(Services& s, const RequestContext& c, int8_t operation,
                    const std::string& topic) {
  return Allowed(s, c, operation, {acl::kTopic, topic})
             ? kafka::error::kNone
             : kafka::error::kTopicAuthorizationFailed;
}

int16_t TxnAccess(Services& s, const RequestContext& c, int8_t operation,
                  const std::string& transactional_id) {
  return Allowed(s, c, operation, {acl::kTransactionalId, transactional_id})
             ? kafka::error::kNone
             : kafka::error::kTransactionalIdAuthorizationFailed;
}

void Deadlines::Expire(int64_t now_ms) {
  while (!deadlines_.empty() && deadlines_.begin()->first <= now_ms) {
    std::function<void()> expire = std::move(deadlines_.begin()->second);
    deadlines_.erase(deadlines_.begin());
    expire();
  }
}

kafka::Uuid ToUuid(const std::string& bytes) {
  kafka::Uuid uuid{};
  if (bytes.size() == uuid.size()) {
    std::copy(bytes.begin(), bytes.end(), uuid.begin());
  }
  return uuid;
}

std::string FromUuid(const kafka::Uuid& uuid) {
  return std::string(uuid.begin(), uuid.end());
}

int64_t ClampTimeout(int64_t timeout_ms) {
  return std::clamp<int64_t>(timeout_ms, 0, kMaxRequestTimeoutMs);
}

}  // namespace chronik::broker
