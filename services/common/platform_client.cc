#include "services/common/platform_client.h"

#include "cdp/v1/audit.grpc.pb.h"
#include "cdp/v1/consent.grpc.pb.h"
#include "cdp/v1/profile.grpc.pb.h"
#include "cdp/v1/rights.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "services/common/grpc_status.h"

namespace cdp::rpc {
namespace {

class GrpcPlatformClient : public PlatformClient {
 public:
  explicit GrpcPlatformClient(const GrpcPlatformOptions& o)
      : options_(o),
        consent_([o] { return MakeChannel(o.consent_target, o.own_tls); }),
        profile_([o] { return MakeChannel(o.profile_target, o.own_tls); }),
        audit_([o] { return MakeChannel(o.audit_target, o.own_tls); }),
        rights_([o] { return MakeChannel(o.rights_target.empty() ? o.audit_target : o.rights_target, o.own_tls); }),
        console_([o] {
          return MakeChannel(o.audit_target, o.console_tls.cert_pem.empty() ? o.own_tls : o.console_tls);
        }) {}

  absl::StatusOr<v1::Catalog> GetCatalog() override {
    return Call<v1::ConsentService, v1::Catalog>(consent_, v1::GetCatalogRequest(),
                                                 &v1::ConsentService::Stub::GetCatalog);
  }
  absl::StatusOr<v1::ConsentState> GetConsent(const std::string& customer_id) override {
    v1::GetConsentRequest r;
    r.set_customer_id(customer_id);
    return Call<v1::ConsentService, v1::ConsentState>(consent_, r, &v1::ConsentService::Stub::GetConsent);
  }
  absl::StatusOr<v1::UpdateConsentResponse> UpdateConsent(const v1::UpdateConsentRequest& r) override {
    return Call<v1::ConsentService, v1::UpdateConsentResponse>(consent_, r, &v1::ConsentService::Stub::UpdateConsent);
  }
  absl::StatusOr<v1::ListConsentHistoryResponse> ListConsentHistory(const v1::ListConsentHistoryRequest& r) override {
    return Call<v1::ConsentService, v1::ListConsentHistoryResponse>(consent_, r,
                                                                    &v1::ConsentService::Stub::ListConsentHistory);
  }
  absl::StatusOr<v1::ProfileView> GetProfile(const v1::GetProfileRequest& r) override {
    return Call<v1::ProfileService, v1::ProfileView>(profile_, r, &v1::ProfileService::Stub::GetProfile);
  }
  absl::StatusOr<v1::SearchProfilesResponse> SearchProfiles(const v1::SearchProfilesRequest& r) override {
    return Call<v1::ProfileService, v1::SearchProfilesResponse>(profile_, r,
                                                                &v1::ProfileService::Stub::SearchProfiles);
  }
  absl::StatusOr<v1::ListAccessEventsResponse> ListAccessEvents(const v1::ListAccessEventsRequest& r) override {
    return Call<v1::AuditService, v1::ListAccessEventsResponse>(audit_, r,
                                                                &v1::AuditService::Stub::ListAccessEvents);
  }
  absl::StatusOr<v1::SignedTreeHead> GetSignedTreeHead() override {
    return Call<v1::AuditService, v1::SignedTreeHead>(audit_, v1::GetSignedTreeHeadRequest(),
                                                      &v1::AuditService::Stub::GetSignedTreeHead);
  }
  absl::StatusOr<v1::InclusionProof> GetInclusionProof(int64_t position, int64_t tree_size) override {
    v1::GetInclusionProofRequest r;
    r.set_position(position);
    r.set_tree_size(tree_size);
    return Call<v1::AuditService, v1::InclusionProof>(audit_, r, &v1::AuditService::Stub::GetInclusionProof);
  }

  absl::StatusOr<v1::ExportMyDataResponse> ExportMyData(const v1::ExportMyDataRequest& r) override {
    if (options_.rights_target.empty()) {
      return absl::FailedPreconditionError("no rights service is configured (--rights_target)");
    }
    return Call<v1::RightsService, v1::ExportMyDataResponse>(rights_, r, &v1::RightsService::Stub::ExportMyData,
                                                              options_.long_deadline);
  }

  absl::StatusOr<v1::RestrictProcessingResponse> RestrictProcessing(const v1::RestrictProcessingRequest& r) override {
    if (options_.rights_target.empty()) {
      return absl::FailedPreconditionError("no rights service is configured (--rights_target)");
    }
    return Call<v1::RightsService, v1::RestrictProcessingResponse>(rights_, r,
                                                                   &v1::RightsService::Stub::RestrictProcessing);
  }

  absl::StatusOr<v1::EraseCustomerResponse> EraseCustomer(const v1::EraseCustomerRequest& r) override {
    if (options_.rights_target.empty()) {
      return absl::FailedPreconditionError("no rights service is configured (--rights_target)");
    }
    return Call<v1::RightsService, v1::EraseCustomerResponse>(rights_, r, &v1::RightsService::Stub::EraseCustomer,
                                                              options_.long_deadline);
  }

  absl::StatusOr<v1::ListAccessEventsResponse> QueryAccessEvents(const v1::QueryAccessEventsRequest& r) override {
    if (absl::Status s = ConsoleConfigured(); !s.ok()) return s;
    return Call<v1::AuditService, v1::ListAccessEventsResponse>(console_, r,
                                                                &v1::AuditService::Stub::QueryAccessEvents);
  }
  absl::Status ExportAccessEvents(const v1::QueryAccessEventsRequest& r,
                                  const std::function<bool(const std::string&)>& write) override {
    if (absl::Status s = ConsoleConfigured(); !s.ok()) return s;
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + options_.long_deadline));
    const auto used = console_.get();
    auto reader = v1::AuditService::NewStub(used)->ExportAccessEvents(&ctx, r);
    v1::ExportChunk chunk;
    while (reader->Read(&chunk)) {
      if (!write(chunk.data())) {
        ctx.TryCancel();
        break;
      }
    }
    absl::Status s = FromGrpcStatus(reader->Finish());
    console_.Observe(s.code(), used);
    return absl::IsCancelled(s) ? absl::OkStatus() : s;
  }
  absl::StatusOr<v1::VerifyLogResponse> VerifyLog() override {
    if (absl::Status s = ConsoleConfigured(); !s.ok()) return s;
    return Call<v1::AuditService, v1::VerifyLogResponse>(console_, v1::VerifyLogRequest(),
                                                         &v1::AuditService::Stub::VerifyLog, options_.long_deadline);
  }
  absl::StatusOr<v1::UnusualAccessReport> UnusualAccess(const v1::UnusualAccessRequest& r) override {
    if (absl::Status s = ConsoleConfigured(); !s.ok()) return s;
    return Call<v1::AuditService, v1::UnusualAccessReport>(console_, r, &v1::AuditService::Stub::UnusualAccess);
  }

 private:
  absl::Status ConsoleConfigured() const {
    if (options_.console_tls.cert_pem.empty()) {
      return absl::FailedPreconditionError("the auditor console has no certificate (--console_tls_cert)");
    }
    return absl::OkStatus();
  }

  template <typename Service, typename Response, typename Request, typename Method>
  absl::StatusOr<Response> Call(RenewingChannel& channel, const Request& request, Method method,
                                absl::Duration deadline = absl::ZeroDuration()) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(
        absl::Now() + (deadline == absl::ZeroDuration() ? options_.deadline : deadline)));
    const auto used = channel.get();
    auto stub = Service::NewStub(used);
    Response out;
    absl::Status s = FromGrpcStatus(((*stub).*method)(&ctx, request, &out));
    channel.Observe(s.code(), used);
    if (!s.ok()) return s;
    return out;
  }

  const GrpcPlatformOptions options_;
  RenewingChannel consent_;
  RenewingChannel profile_;
  RenewingChannel audit_;
  RenewingChannel rights_;
  RenewingChannel console_;
};

}  // namespace

std::unique_ptr<PlatformClient> NewGrpcPlatformClient(const GrpcPlatformOptions& options) {
  return std::make_unique<GrpcPlatformClient>(options);
}

}  // namespace cdp::rpc
