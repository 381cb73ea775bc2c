// cdp-rights: data-subject rights (access, erasure, restriction), carried out through the
// consent, profile and audit services.
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cdp/v1/rights.grpc.pb.h"
#include "services/common/config_files.h"
#include "services/common/platform_client.h"
#include "services/common/service_host.h"
#include "services/rights/rights_api.h"
#include "services/rights/rights_service.h"
#include "storage/migrations.h"

ABSL_FLAG(std::string, catalog, "", "consent catalog file: who may act on rights, purposes, retention periods");
ABSL_FLAG(std::string, consent_target, "", "host:port of the consent service");
ABSL_FLAG(std::string, profile_target, "", "host:port of the profile service (the customer's data, logged)");
ABSL_FLAG(std::string, audit_target, "", "host:port of the audit service (who received the data)");

namespace cdp::rights {
namespace {

struct Parts {
  explicit Parts(server::ServiceContext& context)
      : catalog(server::LoadCatalogOrExit("catalog", absl::GetFlag(FLAGS_catalog))),
        platform(rpc::NewGrpcPlatformClient(
            {.consent_target = server::RequiredFlag("consent_target", absl::GetFlag(FLAGS_consent_target), "host:port"),
             .profile_target = server::RequiredFlag("profile_target", absl::GetFlag(FLAGS_profile_target), "host:port"),
             .audit_target = server::RequiredFlag("audit_target", absl::GetFlag(FLAGS_audit_target), "host:port"),
             .own_tls = context.tls,
             .deadline = absl::Seconds(10)})),
        api(catalog, *platform, [] { return absl::Now(); }) {}

  std::shared_ptr<const consent::Catalog> catalog;
  std::unique_ptr<rpc::PlatformClient> platform;
  RightsApi api;
};

class OwningService : private Parts, public RightsService {
 public:
  explicit OwningService(server::ServiceContext& context) : Parts(context), RightsService(api) {}
};

}  // namespace
}  // namespace cdp::rights

int main(int argc, char** argv) {
  return cdp::server::RunService(
      {.process = {.name = "rights",
                   .usage = "cdp-rights: data-subject rights (access, erasure, restriction)\n"
                            "Usage: cdp-rights --catalog=FILE --consent_target=H:P --profile_target=H:P "
                            "--audit_target=H:P [flags]",
                   .default_port = 7105,
                   .default_metrics_port = 9105,
                   .migrations = cdp::storage::migrations::rights()},
       .full_name = cdp::v1::RightsService::service_full_name(),
       .make_service =
           [](cdp::server::ServiceContext& context) {
             return std::make_unique<cdp::rights::OwningService>(context);
           }},
      argc, argv);
}
