// cdp-profile: the consent-enforced profile read path
#include "cdp/v1/profile.grpc.pb.h"
#include "services/common/service_host.h"
#include "storage/migrations.h"

int main(int argc, char** argv) {
  return cdp::server::RunService(
      {.process = {.name = "profile",
                   .usage = "cdp-profile: the consent-enforced profile read path\nUsage: cdp-profile [flags]",
                   .default_port = 7103,
                   .default_metrics_port = 9103,
                   .migrations = cdp::storage::migrations::profile()},
       .full_name = cdp::v1::ProfileService::service_full_name(),
       // The RPC handlers arrive with the issue that builds this service; until then every
       // call answers UNIMPLEMENTED while health, reflection and metrics work.
       .make_service =
           [](cdp::server::ServiceContext&) { return std::make_unique<cdp::v1::ProfileService::Service>(); }},
      argc, argv);
}
