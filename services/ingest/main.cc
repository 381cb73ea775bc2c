// cdp-ingest: source records in, unified profiles with lineage out (identity resolution,
// merges, encryption at rest).
#include "absl/flags/flag.h"
#include "absl/flags/marshalling.h"
#include "absl/strings/str_cat.h"
#include "consent/catalog.h"
#include "services/common/config_files.h"
#include "services/common/log.h"
#include "services/common/service_host.h"
#include "services/common/tls.h"
#include "services/ingest/consent_registrar.h"
#include "services/ingest/ingest_api.h"
#include "services/ingest/ingest_service.h"
#include "services/ingest/normalize.h"
#include "storage/crypto.h"
#include "storage/key_store.h"
#include "storage/migrations.h"

ABSL_FLAG(std::string, catalog, "",
          "consent catalog file: which callers may write records, manage identities or read "
          "unified profiles");
ABSL_FLAG(std::string, consent_target, "",
          "host:port of the consent service, to announce new profiles to (RegisterCustomers); "
          "empty: do not (their reads would then be refused for want of a consent record)");
ABSL_FLAG(std::vector<std::string>, source_trust,
          std::vector<std::string>({"crm", "billing", "webshop", "contact-centre"}),
          "source systems in order of trust, most trusted first (survivorship: a field's value "
          "comes from the most trusted source that has it, then the most recent); sources not "
          "listed come after these");
ABSL_FLAG(std::string, phone_region, "NL",
          "region (ISO 3166 alpha-2) of phone numbers written without a country code");
ABSL_FLAG(std::string, master_key, "",
          "master key file (one line cdp-master-key-v1:<base64>); wraps every customer's data "
          "key and keys the lookup hashes. Losing it loses all data.");

ABSL_FLAG(std::string, key_db_dsn, "",
          "libpq connection string of the key store: the database that holds the wrapped data "
          "keys, apart from the data (e.g. \"dbname=cdp_keys user=cdp_ingest\"). Back it up on "
          "its own: an erasure destroys a key there, and with it every copy of the customer's data");
ABSL_FLAG(std::string, key_db_admin_dsn, "",
          "connection string for the key store's migrations (default: --key_db_dsn)");

namespace cdp::ingest {
namespace {

struct Parts {
  explicit Parts(server::ServiceContext& context)
      : catalog(server::LoadCatalogOrExit("catalog", absl::GetFlag(FLAGS_catalog))),
        key(LoadKey()),
        key_pool(storage::KeyStore::Options(
            server::RequiredFlag("key_db_dsn", absl::GetFlag(FLAGS_key_db_dsn), "the key store database"), 4)),
        keys(key_pool),
        api(catalog, context.pool, key, keys, LoadOptions()) {
    // Before serving, so that the first batch does not wait for it; a store it cannot
    // read (say, another master key) stops the service.
    context.before_serving = [this, &shutdown = context.shutdown] {
      std::string admin = absl::GetFlag(FLAGS_key_db_admin_dsn);
      if (admin.empty()) admin = absl::GetFlag(FLAGS_key_db_dsn);
      if (absl::Status s = server::ConnectAndMigrate(key_pool, admin, storage::migrations::keys(), shutdown);
          !s.ok()) {
        return s;
      }
      if (absl::Status s = api.ReconcileKeyStore(); !s.ok()) return s;
      return api.LoadIndex();
    };
    if (std::string target = absl::GetFlag(FLAGS_consent_target); !target.empty()) {
      registrar = std::make_unique<ConsentRegistrar>(
          context.pool, [target, &tls = context.tls] { return rpc::MakeChannel(target, tls); });
    } else {
      log::Warning("consent_registration_off", {{"flag", "consent_target"}});
    }
  }

  static IngestApi::Options LoadOptions() {
    IngestApi::Options options;
    options.source_trust = absl::GetFlag(FLAGS_source_trust);
    for (const std::string& s : options.source_trust) {
      if (s.empty()) server::ExitWithConfigError("--source_trust: an empty source name");
    }
    options.normalize.default_region = absl::GetFlag(FLAGS_phone_region);
    if (!IsPhoneRegion(options.normalize.default_region)) {
      server::ExitWithConfigError(absl::StrCat("--phone_region: ", options.normalize.default_region,
                                               " is not a region libphonenumber knows (e.g. NL, BE, DE)"));
    }
    return options;
  }
  static storage::MasterKey LoadKey() {
    std::string path = absl::GetFlag(FLAGS_master_key);
    if (path.empty()) server::ExitWithConfigError("--master_key is required");
    auto key = storage::MasterKey::FromFile(path);
    if (!key.ok()) server::ExitWithConfigError(absl::StrCat("--master_key ", key.status().message()));
    return *std::move(key);
  }

  std::shared_ptr<const consent::Catalog> catalog;
  storage::MasterKey key;
  storage::Pool key_pool;
  storage::KeyStore keys;
  IngestApi api;
  std::unique_ptr<ConsentRegistrar> registrar;
};

class OwningService : private Parts, public IngestService {
 public:
  explicit OwningService(server::ServiceContext& context)
      : Parts(context), IngestService(api, [&shutdown = context.shutdown] { return shutdown.requested(); }) {}
};

}  // namespace
}  // namespace cdp::ingest

int main(int argc, char** argv) {
  return cdp::server::RunService(
      {.process = {.name = "ingest",
                   .usage = "cdp-ingest: source records in, unified profiles out\n"
                            "Usage: cdp-ingest --catalog=FILE --master_key=FILE --key_db_dsn=DSN [flags]",
                   .default_port = 7102,
                   .default_metrics_port = 9102,
                   .migrations = cdp::storage::migrations::ingest(),
                   .statements = [] {
                     auto s = cdp::ingest::IngestApi::Statements();
                     auto r = cdp::ingest::ConsentRegistrar::Statements();
                     s.insert(s.end(), r.begin(), r.end());
                     return s;
                   }()},
       .full_name = cdp::v1::IngestService::service_full_name(),
       .make_service =
           [](cdp::server::ServiceContext& context) {
             return std::make_unique<cdp::ingest::OwningService>(context);
           }},
      argc, argv);
}
