// The rights service's logic, apart from gRPC: what a customer may demand under the GDPR,
// carried out through the other services.
//
// ExportMyData answers an access request (Art. 15(1) a-h) and gives the data in a
// portable form (Art. 20): the values with their sources, the purposes and legal bases,
// the categories, the recipients (every caller the access log says received data), the
// retention periods, the customer's rights, and which bots and automated systems use the
// data. The values are read through the profile service under the data-subject-access
// purpose, so the read is in the access log like any other.
//
// Thread-safe.
#ifndef CDP_SERVICES_RIGHTS_RIGHTS_API_H_
#define CDP_SERVICES_RIGHTS_RIGHTS_API_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cdp/v1/rights.pb.h"
#include "consent/catalog.h"
#include "services/common/platform_client.h"

namespace cdp::rights {

class RightsApi {
 public:
  RightsApi(std::shared_ptr<const consent::Catalog> catalog, rpc::PlatformClient& platform,
            std::function<absl::Time()> clock);

  // PERMISSION_DENIED without EXERCISE_RIGHTS; INVALID_ARGUMENT naming the field for a
  // malformed id, language or acting party; NOT_FOUND for an unknown customer;
  // UNAVAILABLE when a service it needs cannot answer (nothing is returned half).
  absl::StatusOr<v1::ExportMyDataResponse> ExportMyData(const std::string& caller,
                                                        const v1::ExportMyDataRequest& request);

  // Restricts or lifts processing (Art. 18, 21) through the consent service, so that every
  // enforcement point's replica learns of it: the answer is the consent version and
  // receipt of the change. INVALID_ARGUMENT naming the field (an unknown purpose, one on a
  // legal obligation, a missing channel, acting party or idempotency key);
  // FAILED_PRECONDITION for lifting some purposes of an all-purposes restriction;
  // NOT_FOUND for an unknown customer; UNAVAILABLE when consent cannot be changed now.
  absl::StatusOr<v1::RestrictProcessingResponse> RestrictProcessing(const std::string& caller,
                                                                    const v1::RestrictProcessingRequest& request);

 private:
  std::shared_ptr<const consent::Catalog> catalog_;
  rpc::PlatformClient& platform_;
  const std::function<absl::Time()> clock_;
};

}  // namespace cdp::rights

#endif  // CDP_SERVICES_RIGHTS_RIGHTS_API_H_
