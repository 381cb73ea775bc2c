// The platform's services as a front end sees them (the portal, the rights service): every
// call they make for customers and auditors, as proto in and proto out. Calls for customers
// use the client's own certificate; auditor calls use the console's certificate, which
// only the portal has.
#ifndef CDP_SERVICES_COMMON_PLATFORM_CLIENT_H_
#define CDP_SERVICES_COMMON_PLATFORM_CLIENT_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cdp/v1/audit.pb.h"
#include "cdp/v1/catalog.pb.h"
#include "cdp/v1/consent.pb.h"
#include "cdp/v1/profile.pb.h"
#include "cdp/v1/rights.pb.h"
#include "services/common/tls.h"

namespace cdp::rpc {

// Thread-safe implementations. Errors are the called service's status.
class PlatformClient {
 public:
  virtual ~PlatformClient() = default;

  // As the portal (customers' side).
  virtual absl::StatusOr<v1::Catalog> GetCatalog() = 0;
  virtual absl::StatusOr<v1::ConsentState> GetConsent(const std::string& customer_id) = 0;
  virtual absl::StatusOr<v1::UpdateConsentResponse> UpdateConsent(const v1::UpdateConsentRequest& request) = 0;
  virtual absl::StatusOr<v1::ListConsentHistoryResponse> ListConsentHistory(
      const v1::ListConsentHistoryRequest& request) = 0;
  virtual absl::StatusOr<v1::ProfileView> GetProfile(const v1::GetProfileRequest& request) = 0;
  virtual absl::StatusOr<v1::SearchProfilesResponse> SearchProfiles(const v1::SearchProfilesRequest& request) = 0;
  virtual absl::StatusOr<v1::ListAccessEventsResponse> ListAccessEvents(
      const v1::ListAccessEventsRequest& request) = 0;
  virtual absl::StatusOr<v1::SignedTreeHead> GetSignedTreeHead() = 0;
  virtual absl::StatusOr<v1::InclusionProof> GetInclusionProof(int64_t position, int64_t tree_size) = 0;
  // FailedPrecondition when no rights service is configured.
  virtual absl::StatusOr<v1::ExportMyDataResponse> ExportMyData(const v1::ExportMyDataRequest& request) = 0;
  virtual absl::StatusOr<v1::RestrictProcessingResponse> RestrictProcessing(
      const v1::RestrictProcessingRequest& request) = 0;
  virtual absl::StatusOr<v1::EraseCustomerResponse> EraseCustomer(const v1::EraseCustomerRequest& request) = 0;

  // As the auditor console. FailedPrecondition when the portal has no console certificate.
  virtual absl::StatusOr<v1::ListAccessEventsResponse> QueryAccessEvents(
      const v1::QueryAccessEventsRequest& request) = 0;
  // Calls `write` with each chunk of the export; stops early when it returns false.
  virtual absl::Status ExportAccessEvents(const v1::QueryAccessEventsRequest& request,
                                          const std::function<bool(const std::string&)>& write) = 0;
  virtual absl::StatusOr<v1::VerifyLogResponse> VerifyLog() = 0;
  virtual absl::StatusOr<v1::UnusualAccessReport> UnusualAccess(const v1::UnusualAccessRequest& request) = 0;
};

struct GrpcPlatformOptions {
  std::string consent_target;
  std::string profile_target;
  std::string audit_target;
  std::string rights_target;   // empty: no rights service
  TlsMaterial own_tls;
  TlsMaterial console_tls;   // empty cert: no auditor console
  absl::Duration deadline = absl::Seconds(5);
  absl::Duration long_deadline = absl::Minutes(10);   // log verification and exports
};

std::unique_ptr<PlatformClient> NewGrpcPlatformClient(const GrpcPlatformOptions& options);

}  // namespace cdp::rpc

#endif  // CDP_SERVICES_COMMON_PLATFORM_CLIENT_H_
