// cdp-profile: the consent-enforced profile read path (consent replica, golden records from
// cdp-ingest, one durable access event in cdp-audit per read).
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "cdp/v1/profile.grpc.pb.h"
#include "consent/replica.h"
#include "services/common/config_files.h"
#include "services/common/log.h"
#include "services/common/service_host.h"
#include "services/common/tls.h"
#include "services/profile/batching_log.h"
#include "services/profile/profile_api.h"
#include "services/profile/profile_cache.h"
#include "services/profile/profile_service.h"
#include "services/profile/remote.h"
#include "storage/migrations.h"

ABSL_FLAG(std::string, catalog, "", "consent catalog file: which callers may claim which purposes");
ABSL_FLAG(std::string, consent_target, "", "host:port of the consent service (WatchConsent feeds the replica)");
ABSL_FLAG(std::string, ingest_target, "", "host:port of the ingest service (golden records)");
ABSL_FLAG(std::string, audit_target, "", "host:port of the audit service (every read is logged there first)");
ABSL_FLAG(absl::Duration, consent_staleness_bound, absl::Milliseconds(100),
          "reads are refused (UNAVAILABLE) when the consent replica cannot confirm it is current "
          "within this bound");
ABSL_FLAG(bool, profile_cache, true,
          "keep golden records in memory, dropped as the ingest service reports changes; used only while "
          "its change feed is current within --profile_staleness_bound");
ABSL_FLAG(absl::Duration, profile_staleness_bound, absl::Milliseconds(100),
          "the cache answers only while the ingest change feed was heard from within this bound");
ABSL_FLAG(absl::Duration, call_deadline, absl::Seconds(2), "deadline of calls to the ingest and audit services");

namespace cdp::profile {
namespace {

struct Parts {
  explicit Parts(server::ServiceContext& context)
      : catalog(server::LoadCatalogOrExit("catalog", absl::GetFlag(FLAGS_catalog))),
        replica({.connect = [t = server::RequiredFlag("consent_target", absl::GetFlag(FLAGS_consent_target), "host:port"),
                             &tls = context.tls] { return rpc::MakeChannel(t, tls); },
                 .staleness_bound = absl::GetFlag(FLAGS_consent_staleness_bound)}),
        ingest_channel([t = server::RequiredFlag("ingest_target", absl::GetFlag(FLAGS_ingest_target), "host:port"), &tls = context.tls] {
          return rpc::MakeChannel(t, tls);
        }),
        audit_channel([t = server::RequiredFlag("audit_target", absl::GetFlag(FLAGS_audit_target), "host:port"), &tls = context.tls] {
          return rpc::MakeChannel(t, tls);
        }),
        remote_profiles(ingest_channel, absl::GetFlag(FLAGS_call_deadline)),
        profiles(remote_profiles),
        cache(profiles, {.staleness_bound = absl::GetFlag(FLAGS_profile_staleness_bound),
                         .registry = &context.registry}),
        remote_log(audit_channel, absl::GetFlag(FLAGS_call_deadline)),
        log(remote_log),
        api(catalog,
            [this](const std::string& customer, int64_t min_version) { return replica.Lookup(customer, min_version); },
            absl::GetFlag(FLAGS_profile_cache) ? static_cast<ProfileSource&>(cache)
                                                : static_cast<ProfileSource&>(profiles),
            log) {
    if (absl::GetFlag(FLAGS_profile_cache)) cache.StartWatching(ingest_channel);
    // Serving before the replica holds the consent state would only refuse every read.
    context.before_serving = [this] { return replica.WaitUntilCurrent(absl::Minutes(2)); };
  }

  std::shared_ptr<const consent::Catalog> catalog;
  consent::ConsentReplica replica;
  rpc::RenewingChannel ingest_channel;  // shared by concurrent calls
  rpc::RenewingChannel audit_channel;
  RemoteProfileSource remote_profiles;
  CoalescingProfileSource profiles;  // concurrent reads share calls to the ingest service
  CachingProfileSource cache;        // recently read golden records, dropped on change
  RemoteAccessLog remote_log;
  BatchingAccessLog log;  // concurrent reads share calls to the audit service
  ProfileApi api;
};

class OwningService : private Parts, public ProfileService {
 public:
  explicit OwningService(server::ServiceContext& context) : Parts(context), ProfileService(api) {}
};

}  // namespace
}  // namespace cdp::profile

int main(int argc, char** argv) {
  return cdp::server::RunService(
      {.process = {.name = "profile",
                   .usage = "cdp-profile: the consent-enforced profile read path\n"
                            "Usage: cdp-profile --catalog=FILE --consent_target=H:P --ingest_target=H:P "
                            "--audit_target=H:P [flags]",
                   .default_port = 7103,
                   .default_metrics_port = 9103,
                   .migrations = cdp::storage::migrations::profile()},
       .full_name = cdp::v1::ProfileService::service_full_name(),
       .make_service =
           [](cdp::server::ServiceContext& context) {
             return std::make_unique<cdp::profile::OwningService>(context);
           }},
      argc, argv);
}
