// cdp-audit: the tamper-evident access log (appends from enforcement points, signed tree
// heads, proofs, verification).
#include "absl/flags/flag.h"
#include "cdp/v1/audit.grpc.pb.h"
#include "services/audit/access_log.h"
#include "services/audit/audit_api.h"
#include "services/audit/audit_service.h"
#include "services/audit/pg_event_store.h"
#include "services/common/config_files.h"
#include "services/common/service_host.h"
#include "storage/migrations.h"

ABSL_FLAG(std::string, catalog, "",
          "consent catalog file: which callers may append events, read or verify the log");
ABSL_FLAG(std::string, log_key, "",
          "Ed25519 private key (PEM) that signs tree heads; make one with "
          "`openssl genpkey -algorithm ed25519`. Its public key is all a verifier needs.");
ABSL_FLAG(absl::Duration, sign_interval, absl::Seconds(1),
          "how often a grown tree gets a new signed tree head");

namespace cdp::audit {
namespace {

struct Parts {
  explicit Parts(server::ServiceContext& context)
      : catalog(server::LoadCatalogOrExit("catalog", absl::GetFlag(FLAGS_catalog))),
        signer(server::LoadSignerOrExit("log_key", absl::GetFlag(FLAGS_log_key))),
        store(context.pool),
        log(store, *signer, {.sign_interval = SignInterval()}),
        api(catalog, log, store, *signer) {
    // The tree is rebuilt from the stored events before the first append.
    context.before_serving = [this] { return log.Start(); };
  }
  static absl::Duration SignInterval() {
    const absl::Duration d = absl::GetFlag(FLAGS_sign_interval);
    if (d < absl::Milliseconds(10) || d > absl::Seconds(1)) {
      server::ExitWithConfigError("--sign_interval must be between 10ms and 1s");
    }
    return d;
  }

  std::shared_ptr<const consent::Catalog> catalog;
  std::unique_ptr<consent::ReceiptSigner> signer;
  PgEventStore store;
  AccessLog log;
  AuditApi api;
};

class OwningService : private Parts, public AuditService {
 public:
  explicit OwningService(server::ServiceContext& context) : Parts(context), AuditService(api) {}
};

}  // namespace
}  // namespace cdp::audit

int main(int argc, char** argv) {
  return cdp::server::RunService(
      {.process = {.name = "audit",
                   .usage = "cdp-audit: the tamper-evident access log\n"
                            "Usage: cdp-audit --catalog=FILE --log_key=FILE [flags]",
                   .default_port = 7104,
                   .default_metrics_port = 9104,
                   .migrations = cdp::storage::migrations::audit(),
                   .statements = cdp::audit::PgEventStore::Statements()},
       .full_name = cdp::v1::AuditService::service_full_name(),
       .make_service =
           [](cdp::server::ServiceContext& context) {
             return std::make_unique<cdp::audit::OwningService>(context);
           }},
      argc, argv);
}
