// cdp-consent: the consent service (catalog, choices, receipts, replicas)
#include "cdp/v1/consent.grpc.pb.h"
#include "services/common/service_host.h"
#include "storage/migrations.h"

int main(int argc, char** argv) {
  return cdp::server::RunService(
      {.process = {.name = "consent",
                   .usage = "cdp-consent: the consent service (catalog, choices, receipts, replicas)\nUsage: cdp-consent [flags]",
                   .default_port = 7101,
                   .default_metrics_port = 9101,
                   .migrations = cdp::storage::migrations::consent()},
       .full_name = cdp::v1::ConsentService::service_full_name(),
       // The RPC handlers arrive with the issue that builds this service; until then every
       // call answers UNIMPLEMENTED while health, reflection and metrics work.
       .make_service =
           [](cdp::server::ServiceContext&) { return std::make_unique<cdp::v1::ConsentService::Service>(); }},
      argc, argv);
}
