// cdp-ingest: the ingestion and identity-resolution service
#include "cdp/v1/ingest.grpc.pb.h"
#include "services/common/service_host.h"
#include "storage/migrations.h"

int main(int argc, char** argv) {
  return cdp::server::RunService(
      {.process = {.name = "ingest",
                   .usage = "cdp-ingest: the ingestion and identity-resolution service\nUsage: cdp-ingest [flags]",
                   .default_port = 7102,
                   .default_metrics_port = 9102,
                   .migrations = cdp::storage::migrations::ingest()},
       .full_name = cdp::v1::IngestService::service_full_name(),
       // The RPC handlers arrive with the issue that builds this service; until then every
       // call answers UNIMPLEMENTED while health, reflection and metrics work.
       .make_service =
           [](cdp::server::ServiceContext&) { return std::make_unique<cdp::v1::IngestService::Service>(); }},
      argc, argv);
}
