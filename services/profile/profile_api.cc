#include "services/profile/profile_api.h"

#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "services/common/log.h"
#include "services/common/status_macros.h"

namespace cdp::profile {
namespace {

std::string LegalBasisName(v1::LegalBasis basis) {
  return absl::AsciiStrToLower(v1::LegalBasis_Name(basis));
}

}  // namespace

ProfileApi::ProfileApi(std::shared_ptr<const consent::Catalog> catalog, ConsentLookup consent,
                       ProfileSource& profiles, AccessLogWriter& log, std::function<absl::Time()> now)
    : catalog_(std::move(catalog)),
      consent_(std::move(consent)),
      profiles_(profiles),
      log_(log),
      now_(std::move(now)) {}

absl::StatusOr<ProfileApi::Checked> ProfileApi::Check(const std::string& caller, const v1::ReadContext& ctx) const {
  Checked out;
  ASSIGN_OR_RETURN(out.caller, catalog_->Authorize(caller, v1::PERMISSION_UNSPECIFIED));
  if (ctx.purpose().empty()) return absl::InvalidArgumentError("context.purpose: required");
  const std::optional<consent::PurposeId> purpose = catalog_->FindPurpose(ctx.purpose());
  if (!purpose) {
    return absl::InvalidArgumentError(absl::StrCat("context.purpose: ", ctx.purpose(), " is not in the catalog"));
  }
  out.purpose = *purpose;
  out.may_claim = catalog_->CallerMayClaim(*out.caller, ctx.purpose());
  if (ctx.acting_party().kind() == v1::ActingParty::KIND_UNSPECIFIED) {
    return absl::InvalidArgumentError("context.acting_party.kind: required (human agent, bot or automated system)");
  }
  if (ctx.acting_party().id().empty() || ctx.acting_party().id().size() > 128) {
    return absl::InvalidArgumentError("context.acting_party.id: required, at most 128 bytes");
  }
  if (ctx.justification().code() == v1::Justification::CODE_UNSPECIFIED) {
    return absl::InvalidArgumentError("context.justification.code: required");
  }
  if (ctx.justification().reference().size() > 128) {
    return absl::InvalidArgumentError("context.justification.reference: at most 128 bytes");
  }
  // The fields asked for: the mask's, or every field of the catalog.
  for (int i = 0; i < ctx.read_mask().paths_size(); ++i) {
    auto field = catalog_->FindField(ctx.read_mask().paths(i));
    if (!field) {
      return absl::InvalidArgumentError(absl::StrCat("context.read_mask.paths[", i, "]: ",
                                                     ctx.read_mask().paths(i), " is not a field of the catalog"));
    }
    if (std::find(out.fields.begin(), out.fields.end(), *field) == out.fields.end()) out.fields.push_back(*field);
  }
  if (out.fields.empty()) {
    for (consent::FieldId f = 0; f < catalog_->field_count(); ++f) out.fields.push_back(f);
  }
  return out;
}

absl::StatusOr<ProfileApi::Prepared> ProfileApi::Prepare(const std::string& caller, const Checked& checked,
                                                          const v1::ReadContext& ctx,
                                                          const std::vector<Profile>& profiles,
                                                          const std::string& request_id) const {
  v1::AccessEvent base;
  base.set_caller(caller);
  *base.mutable_acting_party() = ctx.acting_party();
  base.set_purpose(ctx.purpose());
  base.set_legal_basis(LegalBasisName(catalog_->purpose(checked.purpose).legal_basis()));
  *base.mutable_justification() = ctx.justification();
  base.set_request_id(request_id);
  Prepared out;

  // A purpose the caller may not claim: refused, and each attempt logged.
  if (!checked.may_claim) {
    for (const Profile& unified : profiles) {
      auto* item = out.log_request.add_events();
      item->set_customer_id(unified->profile_id());
      *item->mutable_event() = base;
      for (consent::FieldId f : checked.fields) {
        (*item->mutable_event()->mutable_fields_withheld())[catalog_->field(f).name()] = "purpose_not_granted_to_caller";
      }
    }
    // (A refused search without hits has no subject to log; it is refused all the same, so
    // the answer never tells whether the key belongs to a customer.)
    out.refusal = absl::PermissionDeniedError(absl::StrCat("caller ", caller, " may not claim purpose ", ctx.purpose()));
    return out;
  }

  const absl::Time now = now_();
  for (const Profile& unified : profiles) {
    // Consent of every profile this one is made of; deny wins.
    std::vector<std::string> ids = {unified->profile_id()};
    ids.insert(ids.end(), unified->merged_profile_ids().begin(), unified->merged_profile_ids().end());
    std::vector<consent::ConsentView> consent_views;
    std::vector<std::optional<consent::PurposeId>> view_purpose;  // the purpose in each view's catalog
    for (size_t i = 0; i < ids.size(); ++i) {
      auto view = consent_(ids[i], i == 0 ? ctx.min_consent_version() : 0);
      if (!view.ok()) {
        if (absl::IsNotFound(view.status())) {
          return absl::UnavailableError("the consent service does not know this customer yet; nothing was released");
        }
        return absl::UnavailableError(absl::StrCat("consent cannot be confirmed current (", view.status().message(),
                                                   "); nothing was released"));
      }
      view_purpose.push_back(view->catalog->FindPurpose(ctx.purpose()));
      consent_views.push_back(*std::move(view));
    }
    auto* item = out.log_request.add_events();
    item->set_customer_id(unified->profile_id());
    v1::AccessEvent& event = *item->mutable_event();
    event = base;
    event.set_consent_version(consent_views[0].version());

    std::map<std::string_view, const v1::FieldValue*> values;
    for (const auto& f : unified->fields()) values[f.field()] = &f;
    v1::ProfileView& view = out.views.emplace_back();
    view.set_profile_id(unified->profile_id());
    for (consent::FieldId f : checked.fields) {
      const std::string& name = catalog_->field(f).name();
      // Decided against the catalog the consent service gave the replica (ids by name:
      // the replica's catalog may be a newer version than this service's file).
      consent::Decision decided;
      for (size_t v = 0; v < consent_views.size(); ++v) {
        const consent::ConsentView& consent_view = consent_views[v];
        const std::optional<consent::PurposeId>& p = view_purpose[v];
        const auto vf = consent_view.catalog->FindField(name);
        if (!p || !vf) {
          decided = consent::Decision{.allow = false,
                                      .rule = p ? consent::Rule::kUnknownField : consent::Rule::kUnknownPurpose};
          break;
        }
        decided = consent_view.Decide(*p, *vf, now);
        if (!decided.allow) break;
      }
      if (!decided.allow) {
        (*event.mutable_fields_withheld())[name] = consent::RuleName(decided.rule);
        auto* w = view.add_withheld();
        w->set_field(name);
        w->set_reason(consent::RuleName(decided.rule));
        continue;
      }
      auto v = values.find(name);
      if (v == values.end()) continue;  // allowed, but the profile has no value for it
      event.add_fields_released(name);
      (*view.mutable_fields())[name] = v->second->value();
      if (ctx.include_lineage()) (*view.mutable_lineage())[name] = v->second->lineage();
    }
    view.set_consent_version(event.consent_version());
  }
  return out;
}

void ProfileApi::ReadManyAsync(const std::string& caller, const Checked& checked, const v1::ReadContext& ctx,
                               const std::vector<Profile>& profiles, const std::string& request_id,
                               Done<std::vector<v1::ProfileView>> done) {
  absl::StatusOr<Prepared> prepared = Prepare(caller, checked, ctx, profiles, request_id);
  if (!prepared.ok()) return std::move(done)(prepared.status());
  const int events = prepared->log_request.events_size();
  if (events == 0) {  // nothing read (a search without hits): nothing to log
    if (!prepared->refusal.ok()) return std::move(done)(prepared->refusal);
    return std::move(done)(std::vector<v1::ProfileView>());
  }
  v1::AppendEventsRequest log_request = std::move(prepared->log_request);
  // No durable event, no data: the views leave only from here, once the log has answered.
  log_.AppendAsync(
      std::move(log_request),
      [caller, events, prepared = *std::move(prepared),
       done = std::move(done)](absl::StatusOr<v1::AppendEventsResponse> appended) mutable {
        if (!appended.ok() || appended->events_size() != events) {
          log::Error("access_event_not_logged", {{"code", absl::StatusCodeToString(appended.status().code())},
                                                 {"events", events},
                                                 {"caller", caller}});
          return std::move(done)(
              absl::UnavailableError("the access log cannot record this read; nothing was released"));
        }
        if (!prepared.refusal.ok()) return std::move(done)(prepared.refusal);
        for (size_t n = 0; n < prepared.views.size(); ++n) {
          prepared.views[n].set_access_event_id(appended->events(static_cast<int>(n)).event_id());
          prepared.views[n].set_access_event_position(appended->events(static_cast<int>(n)).position());
        }
        std::move(done)(std::move(prepared.views));
      });
}

absl::StatusOr<v1::ProfileView> ProfileApi::GetProfile(const std::string& caller, const v1::GetProfileRequest& request,
                                                       const std::string& request_id) {
  return Await<v1::ProfileView>(
      [&](Done<v1::ProfileView> done) { GetProfileAsync(caller, request, request_id, std::move(done)); });
}

void ProfileApi::GetProfileAsync(const std::string& caller, const v1::GetProfileRequest& request,
                                 const std::string& request_id, Done<v1::ProfileView> done) {
  absl::StatusOr<Checked> checked = Check(caller, request.context());
  if (!checked.ok()) return std::move(done)(checked.status());
  if (request.profile_id().empty() || request.profile_id().size() > 64) {
    return std::move(done)(absl::InvalidArgumentError("profile_id: required"));
  }
  // The golden record (a merged-away id answers with the profile it lives under).
  profiles_.GetManyAsync(
      {request.profile_id()},
      [this, caller, request_id, &request, checked = *std::move(checked),
       done = std::move(done)](absl::StatusOr<ProfileAnswers> answers) mutable {
        if (answers.ok() && answers->size() != 1) answers = absl::InternalError("profiles answered for other ids");
        absl::StatusOr<Profile> unified = answers.ok() ? std::move((*answers)[0]) : answers.status();
        std::vector<Profile> found;
        if (unified.ok()) {
          found.push_back(*std::move(unified));
        } else if (!absl::IsNotFound(unified.status()) || checked.may_claim) {
          return std::move(done)(unified.status());
        }  // else refused below all the same: a refused caller never learns whether the id exists
        ReadManyAsync(caller, checked, request.context(), found, request_id,
                      [done = std::move(done)](absl::StatusOr<std::vector<v1::ProfileView>> views) mutable {
                        if (!views.ok()) return std::move(done)(views.status());
                        std::move(done)(std::move((*views)[0]));
                      });
      });
}

absl::StatusOr<v1::BatchGetProfilesResponse> ProfileApi::BatchGetProfiles(const std::string& caller,
                                                                          const v1::BatchGetProfilesRequest& request,
                                                                          const std::string& request_id) {
  ASSIGN_OR_RETURN(Checked checked, Check(caller, request.context()));
  if (request.profile_ids_size() == 0 || request.profile_ids_size() > 100) {
    return absl::InvalidArgumentError("profile_ids: 1 to 100");
  }
  // Checked here, by this request's own index: the fetch may share a call with others'.
  for (int i = 0; i < request.profile_ids_size(); ++i) {
    if (request.profile_ids(i).empty() || request.profile_ids(i).size() > 64) {
      return absl::InvalidArgumentError(absl::StrCat("profile_ids[", i, "]: required, at most 64 bytes"));
    }
  }
  ASSIGN_OR_RETURN(auto found, profiles_.GetMany({request.profile_ids().begin(), request.profile_ids().end()}));
  std::vector<Profile> unified;
  for (size_t i = 0; i < found.size(); ++i) {
    if (!found[i].ok()) {
      if (absl::IsNotFound(found[i].status()) && !checked.may_claim) continue;  // refused below, as in GetProfile
      if (absl::IsNotFound(found[i].status())) {
        return absl::NotFoundError(absl::StrCat("profile_ids[", i, "]: no such profile"));
      }
      return found[i].status();
    }
    unified.push_back(*std::move(found[i]));
  }
  ASSIGN_OR_RETURN(std::vector<v1::ProfileView> views,
                   ReadMany(caller, checked, request.context(), unified, request_id));
  v1::BatchGetProfilesResponse out;
  for (auto& v : views) *out.add_profiles() = std::move(v);
  return out;
}

absl::StatusOr<v1::SearchProfilesResponse> ProfileApi::SearchProfiles(const std::string& caller,
                                                                      const v1::SearchProfilesRequest& request,
                                                                      const std::string& request_id) {
  ASSIGN_OR_RETURN(Checked checked, Check(caller, request.context()));
  v1::FindProfilesRequest find;
  switch (request.key_case()) {
    case v1::SearchProfilesRequest::kEmail: find.set_email(request.email()); break;
    case v1::SearchProfilesRequest::kPhone: find.set_phone(request.phone()); break;
    case v1::SearchProfilesRequest::kCustomerNumber: find.set_customer_number(request.customer_number()); break;
    default: return absl::InvalidArgumentError("key: one of email, phone or customer_number");
  }
  ASSIGN_OR_RETURN(v1::FindProfilesResponse found, profiles_.Find(find));
  std::vector<Profile> unified;
  if (found.profile_ids_size() > 0) {
    ASSIGN_OR_RETURN(auto hits, profiles_.GetMany({found.profile_ids().begin(), found.profile_ids().end()}));
    for (auto& p : hits) {
      if (absl::IsNotFound(p.status())) continue;  // erased or gone since
      if (!p.ok()) return p.status();
      unified.push_back(*std::move(p));
    }
  }
  ASSIGN_OR_RETURN(std::vector<v1::ProfileView> views,
                   ReadMany(caller, checked, request.context(), unified, request_id));
  v1::SearchProfilesResponse out;
  for (auto& v : views) *out.add_profiles() = std::move(v);
  return out;
}

}  // namespace cdp::profile
