// cdp-rights: data-subject rights (access, erasure, restriction), carried out through the
// consent, ingest, profile and audit services; and the retention job.
#include <thread>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cdp/v1/audit.grpc.pb.h"
#include "cdp/v1/consent.grpc.pb.h"
#include "cdp/v1/ingest.grpc.pb.h"
#include "cdp/v1/rights.grpc.pb.h"
#include "consent/receipt.h"
#include "services/common/config_files.h"
#include "services/common/grpc_status.h"
#include "services/common/log.h"
#include "services/common/platform_client.h"
#include "services/common/proto_time.h"
#include "services/common/service_host.h"
#include "services/common/status_macros.h"
#include "services/common/tls.h"
#include "services/rights/erasure.h"
#include "services/rights/rights_api.h"
#include "services/rights/rights_service.h"
#include "storage/migrations.h"

ABSL_FLAG(std::string, catalog, "", "consent catalog file: who may act on rights, purposes, retention periods");
ABSL_FLAG(std::string, consent_target, "", "host:port of the consent service");
ABSL_FLAG(std::string, profile_target, "", "host:port of the profile service (the customer's data, logged)");
ABSL_FLAG(std::string, audit_target, "", "host:port of the audit service (who received the data)");
ABSL_FLAG(std::string, ingest_target, "",
          "host:port of the ingest service (erasure of profiles; the retention job); empty: erasure "
          "requests are kept and carried out once it is set");
ABSL_FLAG(std::string, receipt_key, "",
          "Ed25519 private key (PEM) that signs erasure receipts; the consent service's receipt key, "
          "so that one published key verifies every receipt");
ABSL_FLAG(absl::Duration, resume_interval, absl::Seconds(30),
          "how often unfinished erasures (a service did not answer) are tried again");
ABSL_FLAG(absl::Duration, retention_interval, absl::Hours(1),
          "how often the retention job runs (destroys what erasures kept once its period ended, and "
          "erases customers inactive for longer than the catalog's longest retention period); 0: never");

namespace cdp::rights {
namespace {

// The other services, over gRPC with the service's own certificate.
class GrpcErasureServices : public ErasureServices {
 public:
  GrpcErasureServices(const rpc::TlsMaterial& tls, rpc::PlatformClient& platform)
      : platform_(platform),
        consent_(v1::ConsentService::NewStub(rpc::MakeChannel(absl::GetFlag(FLAGS_consent_target), tls))),
        audit_(v1::AuditService::NewStub(rpc::MakeChannel(absl::GetFlag(FLAGS_audit_target), tls))) {
    if (std::string target = absl::GetFlag(FLAGS_ingest_target); !target.empty()) {
      ingest_ = v1::IngestService::NewStub(rpc::MakeChannel(target, tls));
    } else {
      log::Warning("erasure_off", {{"flag", "ingest_target"}});
    }
  }

  absl::Status CustomerKnown(const std::string& customer_id) override {
    return platform_.GetConsent(customer_id).status();
  }
  absl::StatusOr<v1::EraseProfileResponse> EraseProfile(const v1::EraseProfileRequest& request) override {
    if (!ingest_) return absl::UnavailableError("no --ingest_target");
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    v1::EraseProfileResponse out;
    RETURN_IF_ERROR(rpc::FromGrpcStatus(ingest_->EraseProfile(&ctx, request, &out)));
    return out;
  }
  absl::Status EraseConsent(const std::string& customer_id) override {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::EraseConsentRequest request;
    request.set_customer_id(customer_id);
    v1::EraseConsentResponse out;
    return rpc::FromGrpcStatus(consent_->EraseConsent(&ctx, request, &out));
  }
  absl::Status ForgetInLog(const std::string& customer_id) override {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::ForgetCustomerRequest request;
    request.set_customer_id(customer_id);
    v1::ForgetCustomerResponse out;
    return rpc::FromGrpcStatus(audit_->ForgetCustomer(&ctx, request, &out));
  }
  absl::StatusOr<std::vector<std::string>> InactiveCustomers(absl::Time before, int limit) override {
    if (!ingest_) return absl::UnavailableError("no --ingest_target");
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    v1::ListInactiveProfilesRequest request;
    *request.mutable_before() = ToProtoTime(before);
    request.set_limit(limit);
    v1::ListInactiveProfilesResponse out;
    RETURN_IF_ERROR(rpc::FromGrpcStatus(ingest_->ListInactiveProfiles(&ctx, request, &out)));
    return std::vector<std::string>(out.profile_ids().begin(), out.profile_ids().end());
  }
  absl::StatusOr<v1::PurgeExpiredRetentionResponse> PurgeExpiredRetention() override {
    if (!ingest_) return absl::UnavailableError("no --ingest_target");
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    v1::PurgeExpiredRetentionResponse out;
    RETURN_IF_ERROR(rpc::FromGrpcStatus(ingest_->PurgeExpiredRetention(&ctx, v1::PurgeExpiredRetentionRequest(), &out)));
    return out;
  }

 private:
  rpc::PlatformClient& platform_;
  std::unique_ptr<v1::ConsentService::Stub> consent_;
  std::unique_ptr<v1::AuditService::Stub> audit_;
  std::unique_ptr<v1::IngestService::Stub> ingest_;
};

std::unique_ptr<consent::ReceiptSigner> LoadSigner() {
  auto signer = consent::ReceiptSigner::FromPemFile(
      server::RequiredFlag("receipt_key", absl::GetFlag(FLAGS_receipt_key), "an Ed25519 PEM file"));
  if (!signer.ok()) server::ExitWithConfigError(absl::StrCat("--receipt_key: ", signer.status().message()));
  return *std::move(signer);
}

struct Parts {
  explicit Parts(server::ServiceContext& context)
      : catalog(server::LoadCatalogOrExit("catalog", absl::GetFlag(FLAGS_catalog))),
        platform(rpc::NewGrpcPlatformClient(
            {.consent_target = server::RequiredFlag("consent_target", absl::GetFlag(FLAGS_consent_target), "host:port"),
             .profile_target = server::RequiredFlag("profile_target", absl::GetFlag(FLAGS_profile_target), "host:port"),
             .audit_target = server::RequiredFlag("audit_target", absl::GetFlag(FLAGS_audit_target), "host:port"),
             .own_tls = context.tls,
             .deadline = absl::Seconds(10)})),
        api(catalog, *platform, [] { return absl::Now(); }),
        signer(LoadSigner()),
        services(context.tls, *platform),
        erasures(catalog, context.pool, *signer, services, [] { return absl::Now(); }),
        shutdown(context.shutdown) {
    if (absl::GetFlag(FLAGS_resume_interval) <= absl::ZeroDuration()) {
      server::ExitWithConfigError("--resume_interval must be positive");
    }
    // Unfinished erasures (a crash, a service that did not answer) and the retention job,
    // in the background once serving.
    context.before_serving = [this] {
      background = std::thread([this] { Background(); });
      return absl::OkStatus();
    };
  }
  ~Parts() {
    if (background.joinable()) background.join();
  }

  void Background() {
    const absl::Duration resume = absl::GetFlag(FLAGS_resume_interval);
    const absl::Duration retention = absl::GetFlag(FLAGS_retention_interval);
    absl::Time next_retention = absl::Now();
    do {
      if (absl::Status s = erasures.ResumePending(); !s.ok()) {
        log::Warning("erasures_pending", {{"code", absl::StatusCodeToString(s.code())}});
      }
      if (retention > absl::ZeroDuration() && absl::Now() >= next_retention) {
        (void)erasures.RunRetention();
        next_retention = absl::Now() + retention;
      }
    } while (!shutdown.notification().WaitForNotificationWithTimeout(resume));
  }

  std::shared_ptr<const consent::Catalog> catalog;
  std::unique_ptr<rpc::PlatformClient> platform;
  RightsApi api;
  std::unique_ptr<consent::ReceiptSigner> signer;
  GrpcErasureServices services;
  Erasures erasures;
  const server::ShutdownSignal& shutdown;
  std::thread background;
};

class OwningService : private Parts, public RightsService {
 public:
  explicit OwningService(server::ServiceContext& context)
      : Parts(context), RightsService(api, erasures, [&shutdown = context.shutdown] { return shutdown.requested(); }) {}
};

}  // namespace
}  // namespace cdp::rights

int main(int argc, char** argv) {
  return cdp::server::RunService(
      {.process = {.name = "rights",
                   .usage = "cdp-rights: data-subject rights (access, erasure, restriction) and the retention job\n"
                            "Usage: cdp-rights --catalog=FILE --receipt_key=FILE --consent_target=H:P "
                            "--profile_target=H:P --audit_target=H:P --ingest_target=H:P [flags]",
                   .default_port = 7105,
                   .default_metrics_port = 9105,
                   .migrations = cdp::storage::migrations::rights(),
                   .statements = cdp::rights::Erasures::Statements()},
       .full_name = cdp::v1::RightsService::service_full_name(),
       .make_service =
           [](cdp::server::ServiceContext& context) {
             return std::make_unique<cdp::rights::OwningService>(context);
           }},
      argc, argv);
}
