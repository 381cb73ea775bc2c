// cdp-consent: the consent service (catalog, choices, history, receipts, change feed).
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "consent/catalog.h"
#include "consent/receipt.h"
#include "services/common/config_files.h"
#include "services/common/log.h"
#include "services/common/service_host.h"
#include "services/consent/change_feed.h"
#include "services/consent/consent_api.h"
#include "services/consent/consent_service.h"
#include "services/consent/pg_consent_store.h"
#include "storage/migrations.h"

ABSL_FLAG(std::string, catalog, "",
          "consent catalog file (text-format cdp.v1.Catalog), e.g. consent/catalog/default.textproto");
ABSL_FLAG(std::string, receipt_key, "",
          "Ed25519 private key (PEM) that signs consent receipts; make one with "
          "`openssl genpkey -algorithm ed25519`");
ABSL_FLAG(absl::Duration, feed_poll_interval, absl::Milliseconds(20),
          "how often the change feed looks for changes made by other instances; also the "
          "heartbeat interval of WatchConsent streams");

namespace cdp::consent {
namespace {

// What the service's handlers need, built from the flags, in construction order.
struct Parts {
  explicit Parts(server::ServiceContext& context)
      : catalog(server::LoadCatalogOrExit("catalog", absl::GetFlag(FLAGS_catalog))),
        signer(server::LoadSignerOrExit("receipt_key", absl::GetFlag(FLAGS_receipt_key))),
        store(context.pool),
        feed(store, {.poll_interval = PollInterval()}),
        api(catalog, store, *signer, feed, {}) {}

  static absl::Duration PollInterval() {
    absl::Duration d = absl::GetFlag(FLAGS_feed_poll_interval);
    if (d < absl::Milliseconds(1) || d > absl::Seconds(10)) {
      server::ExitWithConfigError("--feed_poll_interval must be between 1ms and 10s");
    }
    return d;
  }

  std::shared_ptr<const Catalog> catalog;
  std::unique_ptr<ReceiptSigner> signer;
  PgConsentStore store;
  ChangeFeed feed;
  ConsentApi api;
};

// The gRPC service together with everything it uses, destroyed together.
class OwningService : private Parts, public ConsentService {
 public:
  explicit OwningService(server::ServiceContext& context)
      : Parts(context),
        ConsentService(api, [&shutdown = context.shutdown] { return shutdown.requested(); }) {}
};

}  // namespace
}  // namespace cdp::consent

int main(int argc, char** argv) {
  return cdp::server::RunService(
      {.process = {.name = "consent",
                   .usage = "cdp-consent: the consent service (catalog, choices, history, "
                            "receipts, change feed)\nUsage: cdp-consent --catalog=FILE "
                            "--receipt_key=FILE [flags]",
                   .default_port = 7101,
                   .default_metrics_port = 9101,
                   .migrations = cdp::storage::migrations::consent(),
                   .statements = cdp::consent::PgConsentStore::Statements()},
       .full_name = cdp::v1::ConsentService::service_full_name(),
       .make_service =
           [](cdp::server::ServiceContext& context) {
             return std::make_unique<cdp::consent::OwningService>(context);
           }},
      argc, argv);
}
