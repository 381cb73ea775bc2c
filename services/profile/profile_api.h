// The consent-enforced read path (ProfileService) apart from gRPC.
//
// For each read: the caller is the service in its certificate, and may only claim the
// purposes the catalog grants it; every requested field is decided by the consent replica
// (deny by default; for a profile made of merged profiles, every one of them must allow:
// deny wins); then exactly one access event is appended to the audit log, and only once
// it is durable does any value leave. No event, no data: if the log cannot take it the
// read fails with UNAVAILABLE. Refused purposes are logged too.
#ifndef CDP_SERVICES_PROFILE_PROFILE_API_H_
#define CDP_SERVICES_PROFILE_PROFILE_API_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "cdp/v1/audit.pb.h"
#include "cdp/v1/ingest.pb.h"
#include "cdp/v1/profile.pb.h"
#include "consent/catalog.h"
#include "consent/replica.h"
#include "services/common/async.h"

namespace cdp::profile {

// A golden record, shared: the profile cache hands out the one it keeps, without a copy.
using Profile = std::shared_ptr<const v1::UnifiedProfile>;
using ProfileAnswers = std::vector<absl::StatusOr<Profile>>;

// Golden records (the ingest service in production).
class ProfileSource {
 public:
  virtual ~ProfileSource() = default;
  // One answer per id, in order: the profile (a merged-away id answers with the profile it
  // lives under) or NotFound for an unknown or erased id. An error for the whole call when
  // profiles cannot be read at all. Calls `done` once (services/common/async.h).
  virtual void GetManyAsync(std::vector<std::string> profile_ids, Done<ProfileAnswers> done) = 0;
  // The same, blocking (see Await).
  absl::StatusOr<ProfileAnswers> GetMany(std::vector<std::string> profile_ids) {
    return Await<ProfileAnswers>([&](Done<ProfileAnswers> done) { GetManyAsync(std::move(profile_ids), std::move(done)); });
  }
  absl::StatusOr<Profile> Get(const std::string& profile_id) {
    auto many = GetMany({profile_id});
    if (!many.ok()) return many.status();
    return std::move((*many)[0]);
  }
  // The profiles with a record holding the e-mail, phone or customer number.
  virtual absl::StatusOr<v1::FindProfilesResponse> Find(const v1::FindProfilesRequest& request) = 0;
};

// The audit log (the audit service in production). OK means durable. Calls `done` once.
class AccessLogWriter {
 public:
  virtual ~AccessLogWriter() = default;
  virtual void AppendAsync(v1::AppendEventsRequest request, Done<v1::AppendEventsResponse> done) = 0;
  // The same, blocking (see Await).
  absl::StatusOr<v1::AppendEventsResponse> Append(v1::AppendEventsRequest request) {
    return Await<v1::AppendEventsResponse>(
        [&](Done<v1::AppendEventsResponse> done) { AppendAsync(std::move(request), std::move(done)); });
  }
};

// Consent state (a ConsentReplica in production).
using ConsentLookup =
    std::function<absl::StatusOr<consent::ConsentView>(const std::string& customer_id, int64_t min_version)>;

class ProfileApi {
 public:
  // Everything must outlive the API. Thread-safe if its parts are.
  ProfileApi(std::shared_ptr<const consent::Catalog> catalog, ConsentLookup consent, ProfileSource& profiles,
             AccessLogWriter& log, std::function<absl::Time()> now = [] { return absl::Now(); });

  // PERMISSION_DENIED for a caller outside the catalog or a purpose it may not claim (the
  // attempt is logged); INVALID_ARGUMENT naming the field (profile_id,
  // context.read_mask.paths[2], context.acting_party.kind, ...); NOT_FOUND for an unknown
  // profile (PERMISSION_DENIED all the same when the purpose is refused); UNAVAILABLE
  // when consent cannot be confirmed current or the log cannot take the event (nothing
  // is released then). Blocks until the log answers (see Await).
  absl::StatusOr<v1::ProfileView> GetProfile(const std::string& caller, const v1::GetProfileRequest& request,
                                             const std::string& request_id);
  // The same without blocking: `done` is called once, on whichever thread answers last
  // (the log's, usually). `request` must stay valid until then.
  void GetProfileAsync(const std::string& caller, const v1::GetProfileRequest& request,
                       const std::string& request_id, Done<v1::ProfileView> done);
  // GetProfile for up to 100 profiles at once, one event each, all logged before any is
  // released; NOT_FOUND naming profile_ids[i] for an unknown one (nothing is read then).
  absl::StatusOr<v1::BatchGetProfilesResponse> BatchGetProfiles(const std::string& caller,
                                                                const v1::BatchGetProfilesRequest& request,
                                                                const std::string& request_id);
  // The profiles found by e-mail, phone or customer number, each read as GetProfile reads
  // (one event per hit). No hits: an empty response and no event.
  absl::StatusOr<v1::SearchProfilesResponse> SearchProfiles(const std::string& caller,
                                                            const v1::SearchProfilesRequest& request,
                                                            const std::string& request_id);

 private:
  struct Checked {
    const v1::CallerDef* caller = nullptr;
    consent::PurposeId purpose = 0;
    bool may_claim = false;  // whether the catalog grants the caller this purpose
    std::vector<consent::FieldId> fields;
  };
  absl::StatusOr<Checked> Check(const std::string& caller, const v1::ReadContext& ctx) const;
  // Decides, logs (one event per profile, one call to the log) and releases: `done` gets
  // the views once their events are durable. `ctx` must stay valid until then.
  void ReadManyAsync(const std::string& caller, const Checked& checked, const v1::ReadContext& ctx,
                     const std::vector<Profile>& profiles, const std::string& request_id,
                     Done<std::vector<v1::ProfileView>> done);
  absl::StatusOr<std::vector<v1::ProfileView>> ReadMany(const std::string& caller, const Checked& checked,
                                                        const v1::ReadContext& ctx,
                                                        const std::vector<Profile>& profiles,
                                                        const std::string& request_id) {
    return Await<std::vector<v1::ProfileView>>([&](Done<std::vector<v1::ProfileView>> done) {
      ReadManyAsync(caller, checked, ctx, profiles, request_id, std::move(done));
    });
  }
  // What a read releases and what it logs, decided before anything is logged.
  struct Prepared {
    std::vector<v1::ProfileView> views;  // one per profile, without their event ids yet
    v1::AppendEventsRequest log_request;
    absl::Status refusal;  // PERMISSION_DENIED for a purpose the caller may not claim
  };
  absl::StatusOr<Prepared> Prepare(const std::string& caller, const Checked& checked, const v1::ReadContext& ctx,
                                   const std::vector<Profile>& profiles, const std::string& request_id) const;

  std::shared_ptr<const consent::Catalog> catalog_;
  ConsentLookup consent_;
  ProfileSource& profiles_;
  AccessLogWriter& log_;
  std::function<absl::Time()> now_;
};

}  // namespace cdp::profile

#endif  // CDP_SERVICES_PROFILE_PROFILE_API_H_
