// cdp-audit: the tamper-evident access log
#include "cdp/v1/audit.grpc.pb.h"
#include "services/common/service_host.h"
#include "storage/migrations.h"

int main(int argc, char** argv) {
  return cdp::server::RunService(
      {.process = {.name = "audit",
                   .usage = "cdp-audit: the tamper-evident access log\nUsage: cdp-audit [flags]",
                   .default_port = 7104,
                   .default_metrics_port = 9104,
                   .migrations = cdp::storage::migrations::audit()},
       .full_name = cdp::v1::AuditService::service_full_name(),
       // The RPC handlers arrive with the issue that builds this service; until then every
       // call answers UNIMPLEMENTED while health, reflection and metrics work.
       .make_service =
           [](cdp::server::ServiceContext&) { return std::make_unique<cdp::v1::AuditService::Service>(); }},
      argc, argv);
}
