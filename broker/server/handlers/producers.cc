// InitProducerId (idempotent producers; transactions are not served yet).
#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "broker/kafka/errors.h"
#include "broker/server/handlers/handlers.h"

namespace chronik::broker {

void Handle(Services& s, const RequestContext& c,
            kafka::InitProducerIdRequest& r) {
  if (r.transactional_id.has_value() && !r.transactional_id->empty()) {
    kafka::InitProducerIdResponse response;
    response.error_code = kafka::error::kTransactionalIdAuthorizationFailed;
    s.connections.Finish(c, response, true);
    return;
  }
  s.producer_ids.Request(c);
}

}  // namespace chronik::broker
