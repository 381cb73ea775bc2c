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

absl::StatusOr<v1::ProfileView> ProfileApi::GetProfile(const std::string& caller,
                                                       const v1::GetProfileRequest& request,
                                                       const std::string& request_id) {
  const v1::CallerDef* def = catalog_->FindCaller(caller);
  if (def == nullptr) {
    return absl::PermissionDeniedError(absl::StrCat("caller ", caller, " is not in the catalog"));
  }
  const v1::ReadContext& ctx = request.context();
  if (request.profile_id().empty() || request.profile_id().size() > 64) {
    return absl::InvalidArgumentError("profile_id: required");
  }
  if (ctx.purpose().empty()) return absl::InvalidArgumentError("context.purpose: required");
  const std::optional<consent::PurposeId> purpose = catalog_->FindPurpose(ctx.purpose());
  if (!purpose) {
    return absl::InvalidArgumentError(absl::StrCat("context.purpose: ", ctx.purpose(), " is not in the catalog"));
  }
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
  std::vector<consent::FieldId> fields;
  for (int i = 0; i < ctx.read_mask().paths_size(); ++i) {
    auto field = catalog_->FindField(ctx.read_mask().paths(i));
    if (!field) {
      return absl::InvalidArgumentError(absl::StrCat("context.read_mask.paths[", i, "]: ",
                                                     ctx.read_mask().paths(i), " is not a field of the catalog"));
    }
    if (std::find(fields.begin(), fields.end(), *field) == fields.end()) fields.push_back(*field);
  }
  if (fields.empty()) {
    for (consent::FieldId f = 0; f < catalog_->field_count(); ++f) fields.push_back(f);
  }

  v1::AccessEvent event;
  event.set_caller(caller);
  *event.mutable_acting_party() = ctx.acting_party();
  event.set_purpose(ctx.purpose());
  event.set_legal_basis(LegalBasisName(catalog_->purpose(*purpose).legal_basis()));
  *event.mutable_justification() = ctx.justification();
  event.set_request_id(request_id);
  auto append = [&](const std::string& customer) -> absl::StatusOr<v1::AppendEventsResponse::Appended> {
    v1::AppendEventsRequest req;
    auto* item = req.add_events();
    item->set_customer_id(customer);
    *item->mutable_event() = event;
    auto appended = log_.Append(req);
    if (!appended.ok() || appended->events_size() != 1) {
      log::Error("access_event_not_logged",
                 {{"code", absl::StatusCodeToString(appended.status().code())}, {"caller", caller}});
      return absl::UnavailableError("the access log cannot record this read; nothing was released");
    }
    return appended->events(0);
  };

  // The golden record (a merged-away id answers with the profile it lives under).
  ASSIGN_OR_RETURN(v1::UnifiedProfile unified, profiles_.Get(request.profile_id()));

  // A purpose the caller may not claim: refused, and the attempt logged.
  if (!catalog_->CallerMayClaim(*def, ctx.purpose())) {
    for (consent::FieldId f : fields) {
      (*event.mutable_fields_withheld())[catalog_->field(f).name()] = "purpose_not_granted_to_caller";
    }
    RETURN_IF_ERROR(append(unified.profile_id()).status());
    return absl::PermissionDeniedError(
        absl::StrCat("caller ", caller, " may not claim purpose ", ctx.purpose()));
  }

  // Consent of every profile this one is made of; deny wins.
  std::vector<std::string> ids = {unified.profile_id()};
  ids.insert(ids.end(), unified.merged_profile_ids().begin(), unified.merged_profile_ids().end());
  std::vector<consent::ConsentView> views;
  for (size_t i = 0; i < ids.size(); ++i) {
    auto view = consent_(ids[i], i == 0 ? ctx.min_consent_version() : 0);
    if (!view.ok()) {
      if (absl::IsNotFound(view.status())) {
        return absl::UnavailableError("the consent service does not know this customer yet; nothing was released");
      }
      return absl::UnavailableError(absl::StrCat("consent cannot be confirmed current (",
                                                 view.status().message(), "); nothing was released"));
    }
    views.push_back(*std::move(view));
  }
  event.set_consent_version(views[0].version());

  std::map<std::string, std::string> values;
  for (const auto& f : unified.fields()) values[f.field()] = f.value();
  v1::ProfileView out;
  out.set_profile_id(unified.profile_id());
  const absl::Time now = now_();
  for (consent::FieldId f : fields) {
    const std::string& name = catalog_->field(f).name();
    // Decided against the catalog the consent service gave the replica (ids by name: the
    // replica's catalog may be a newer version than this service's file).
    consent::Decision decided;
    for (const consent::ConsentView& view : views) {
      const auto p = view.catalog->FindPurpose(ctx.purpose());
      const auto vf = view.catalog->FindField(name);
      if (!p || !vf) {
        decided = consent::Decision{.allow = false, .rule = p ? consent::Rule::kUnknownField : consent::Rule::kUnknownPurpose};
        break;
      }
      decided = view.Decide(*p, *vf, now);
      if (!decided.allow) break;
    }
    if (!decided.allow) {
      (*event.mutable_fields_withheld())[name] = consent::RuleName(decided.rule);
      auto* w = out.add_withheld();
      w->set_field(name);
      w->set_reason(consent::RuleName(decided.rule));
      continue;
    }
    auto v = values.find(name);
    if (v == values.end()) continue;  // allowed, but the profile has no value for it
    event.add_fields_released(name);
    (*out.mutable_fields())[name] = v->second;
  }
  out.set_consent_version(event.consent_version());

  // No durable event, no data.
  ASSIGN_OR_RETURN(v1::AppendEventsResponse::Appended appended, append(unified.profile_id()));
  out.set_access_event_id(appended.event_id());
  out.set_access_event_position(appended.position());
  return out;
}

}  // namespace cdp::profile
