#include "consent/state.h"

#include <regex>
#include <set>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "services/common/proto_time.h"

namespace cdp::consent {
namespace {


bool SameTarget(const v1::ConsentChoice& a, const v1::ConsentChoice& b) {
  return a.field() == b.field() && a.category() == b.category() && a.purpose() == b.purpose();
}

}  // namespace

absl::Status ValidateCustomerId(std::string_view id, std::string_view field) {
  static const auto* re = new std::regex("[A-Za-z0-9._:-]{1,64}");
  if (!std::regex_match(id.begin(), id.end(), *re)) {
    return absl::InvalidArgumentError(absl::StrCat(
        absl::string_view(field.data(), field.size()),
        ": must be 1 to 64 characters from A-Z, a-z, 0-9 and . _ : -"));
  }
  return absl::OkStatus();
}

absl::Status ValidateChoices(const Catalog& catalog,
                             const google::protobuf::RepeatedPtrField<v1::ConsentChoice>& choices,
                             absl::Time now) {
  if (choices.empty()) return absl::InvalidArgumentError("choices: must not be empty");
  std::set<std::tuple<std::string, std::string, std::string>> seen;
  for (int i = 0; i < choices.size(); ++i) {
    const v1::ConsentChoice& c = choices[i];
    const std::string at = absl::StrCat("choices[", i, "]");
    auto invalid = [&](std::string_view member, const std::string& what) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, member.empty() ? "" : ".", absl::string_view(member.data(), member.size()),
                       ": ", what));
    };
    std::optional<PurposeId> purpose = catalog.FindPurpose(c.purpose());
    if (!purpose) return invalid("purpose", absl::StrCat("unknown purpose \"", c.purpose(), "\""));
    const v1::PurposeDef& def = catalog.purpose(*purpose);
    if (c.field().empty() == c.category().empty()) {
      return invalid("", "set exactly one of field and category");
    }
    if (!c.field().empty()) {
      std::optional<FieldId> field = catalog.FindField(c.field());
      if (!field) return invalid("field", absl::StrCat("unknown field \"", c.field(), "\""));
      if (!catalog.InScope(*purpose, *field)) {
        return invalid("field", absl::StrCat("purpose \"", c.purpose(), "\" never uses field \"",
                                             c.field(), "\""));
      }
    } else {
      std::optional<v1::Category> category = Catalog::ParseCategory(c.category());
      if (!category) {
        return invalid("category", absl::StrCat("unknown category \"", c.category(), "\""));
      }
      bool used = false;
      for (FieldId f = 0; f < catalog.field_count() && !used; ++f) {
        used = catalog.category_of(f) == *category && catalog.InScope(*purpose, f);
      }
      if (!used) {
        return invalid("category", absl::StrCat("purpose \"", c.purpose(),
                                                "\" never uses category \"", c.category(), "\""));
      }
    }
    if (c.has_expires_at() && FromProtoTime(c.expires_at()) <= now) {
      return invalid("expires_at", "must be in the future");
    }
    if (!seen.emplace(c.field(), c.category(), c.purpose()).second) {
      return invalid("", "a second choice for the same target and purpose");
    }
    if (!Catalog::IsSwitchable(def.legal_basis())) {
      return absl::FailedPreconditionError(absl::StrCat(
          at, ": purpose \"", c.purpose(), "\" cannot be switched on or off: ",
          def.locked_reason().en(), " / ", def.locked_reason().nl()));
    }
  }
  return absl::OkStatus();
}

std::vector<v1::ConsentChoice> MergeChoices(
    const google::protobuf::RepeatedPtrField<v1::ConsentChoice>& current,
    const std::vector<v1::ConsentChoice>& changes) {
  std::vector<v1::ConsentChoice> merged(current.begin(), current.end());
  for (const v1::ConsentChoice& change : changes) {
    bool replaced = false;
    for (v1::ConsentChoice& existing : merged) {
      if (SameTarget(existing, change)) {
        existing = change;
        replaced = true;
        break;
      }
    }
    if (!replaced) merged.push_back(change);
  }
  return merged;
}

absl::Status ValidateRestriction(const Catalog& catalog, const v1::RestrictionChange& change) {
  std::set<std::string> seen;
  for (int i = 0; i < change.purposes_size(); ++i) {
    const std::string& name = change.purposes(i);
    const std::string at = absl::StrCat("restriction.purposes[", i, "]");
    std::optional<PurposeId> p = catalog.FindPurpose(name);
    if (!p) return absl::InvalidArgumentError(absl::StrCat(at, ": unknown purpose \"", name, "\""));
    if (catalog.purpose(*p).legal_basis() == v1::LEGAL_OBLIGATION) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, ": \"", name, "\" rests on a legal obligation and cannot be restricted"));
    }
    if (!seen.insert(name).second) return absl::InvalidArgumentError(absl::StrCat(at, ": named twice"));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Restriction> MergeRestriction(const v1::Restriction& current,
                                                 const v1::RestrictionChange& change) {
  v1::Restriction out;
  std::set<std::string> purposes(current.purposes().begin(), current.purposes().end());
  bool all = current.all();
  if (change.restrict()) {
    if (change.purposes().empty()) all = true;
    purposes.insert(change.purposes().begin(), change.purposes().end());
  } else if (change.purposes().empty()) {
    all = false;
    purposes.clear();
  } else {
    if (all) {
      return absl::FailedPreconditionError(
          "restriction: processing is restricted for every purpose; lift it, then restrict what should stay "
          "restricted");
    }
    for (const std::string& p : change.purposes()) purposes.erase(p);
  }
  out.set_all(all);
  if (!all) {
    for (const std::string& p : purposes) out.add_purposes(p);
  }
  return out;
}

CustomerChoices ChoicesFromProto(const v1::CustomerConsent& state) {
  CustomerChoices out;
  out.version = state.version();
  out.restricted_all = state.restriction().all();
  out.restricted_purposes.assign(state.restriction().purposes().begin(), state.restriction().purposes().end());
  out.choices.reserve(static_cast<size_t>(state.choices_size()));
  for (const v1::ConsentChoice& c : state.choices()) {
    Choice choice;
    choice.field = c.field();
    if (!c.category().empty()) {
      choice.category = Catalog::ParseCategory(c.category()).value_or(v1::CATEGORY_UNSPECIFIED);
    }
    choice.purpose = c.purpose();
    choice.allow = c.allow();
    if (c.has_given_at()) choice.given_at = FromProtoTime(c.given_at());
    if (c.has_expires_at()) choice.expires_at = FromProtoTime(c.expires_at());
    choice.channel = c.channel();
    out.choices.push_back(std::move(choice));
  }
  return out;
}

v1::ConsentState EffectiveMatrix(const Catalog& catalog, const v1::CustomerConsent& state,
                                 absl::Time now) {
  v1::ConsentState out;
  out.set_customer_id(state.customer_id());
  out.set_version(state.version());
  out.set_catalog_version(catalog.version());
  *out.mutable_choices() = state.choices();
  *out.mutable_restriction() = state.restriction();
  CompiledChoices compiled(catalog, ChoicesFromProto(state));
  for (FieldId f = 0; f < catalog.field_count(); ++f) {
    for (PurposeId p = 0; p < catalog.purpose_count(); ++p) {
      Decision d = Decide(catalog, compiled, p, f, now);
      v1::ConsentCell* cell = out.add_cells();
      cell->set_field(catalog.field(f).name());
      cell->set_purpose(catalog.purpose(p).name());
      cell->set_allow(d.allow);
      cell->set_rule(RuleName(d.rule));
      cell->set_legal_basis(d.legal_basis);
      if (d.choice_index >= 0) *cell->mutable_choice() = state.choices(d.choice_index);
    }
  }
  return out;
}

}  // namespace cdp::consent
