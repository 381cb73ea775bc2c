// cdp-rights: data-subject rights (access, erasure, restriction)
#include "cdp/v1/rights.grpc.pb.h"
#include "services/common/service_host.h"
#include "storage/migrations.h"

int main(int argc, char** argv) {
  return cdp::server::RunService(
      {.process = {.name = "rights",
                   .usage = "cdp-rights: data-subject rights (access, erasure, restriction)\nUsage: cdp-rights [flags]",
                   .default_port = 7105,
                   .default_metrics_port = 9105,
                   .migrations = cdp::storage::migrations::rights()},
       .full_name = cdp::v1::RightsService::service_full_name(),
       // The RPC handlers arrive with the issue that builds this service; until then every
       // call answers UNIMPLEMENTED while health, reflection and metrics work.
       .make_service =
           [](cdp::server::ServiceContext&) { return std::make_unique<cdp::v1::RightsService::Service>(); }},
      argc, argv);
}
