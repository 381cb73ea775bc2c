#include "consent/decision.h"

namespace cdp::consent {

const char* RuleName(Rule rule) {
  switch (rule) {
    case Rule::kUnknownPurpose: return "unknown_purpose";
    case Rule::kUnknownField: return "unknown_field";
    case Rule::kOutsidePurposeScope: return "outside_purpose_scope";
    case Rule::kLegalBasisAlwaysOn: return "legal_basis_always_on";
    case Rule::kCustomerFieldChoice: return "customer_field_choice";
    case Rule::kCustomerCategoryChoice: return "customer_category_choice";
    case Rule::kConsentDefaultOff: return "consent_default_off";
    case Rule::kLegitimateInterestDefault: return "legitimate_interest_default";
    case Rule::kRestrictedByCustomer: return "restricted_by_customer";
  }
  return "unknown";
}

CompiledChoices::CompiledChoices(const Catalog& catalog, const CustomerChoices& choices)
    : version_(choices.version), restricted_all_(choices.restricted_all) {
  for (const std::string& name : choices.restricted_purposes) {
    if (std::optional<PurposeId> p = catalog.FindPurpose(name)) {
      if (restricted_.size() <= static_cast<size_t>(*p)) restricted_.resize(static_cast<size_t>(*p) + 1);
      restricted_[static_cast<size_t>(*p)] = true;
    }
  }
  entries_.reserve(choices.choices.size());
  for (size_t i = 0; i < choices.choices.size(); ++i) {
    const Choice& c = choices.choices[i];
    std::optional<PurposeId> purpose = catalog.FindPurpose(c.purpose);
    if (!purpose) continue;
    Entry e{*purpose, 0, false, c.allow, static_cast<int32_t>(i), c.expires_at};
    if (!c.field.empty()) {
      std::optional<FieldId> field = catalog.FindField(c.field);
      if (!field) continue;
      e.target = *field;
    } else if (c.category != v1::CATEGORY_UNSPECIFIED) {
      e.target = c.category;
      e.is_category = true;
    } else {
      continue;
    }
    entries_.push_back(e);
  }
}

Decision Decide(const Catalog& catalog, const CompiledChoices& choices, PurposeId purpose,
                FieldId field, absl::Time now) {
  Decision d;
  d.consent_version = choices.version();
  if (purpose < 0 || purpose >= catalog.purpose_count()) {
    d.rule = Rule::kUnknownPurpose;
    return d;
  }
  const v1::PurposeDef& def = catalog.purpose(purpose);
  d.legal_basis = def.legal_basis();
  if (field < 0 || field >= catalog.field_count()) {
    d.rule = Rule::kUnknownField;
    return d;
  }
  if (!catalog.InScope(purpose, field)) {
    d.rule = Rule::kOutsidePurposeScope;
    return d;
  }
  if (def.legal_basis() != v1::LEGAL_OBLIGATION && choices.Restricted(purpose)) {
    d.rule = Rule::kRestrictedByCustomer;
    return d;
  }
  if (!Catalog::IsSwitchable(def.legal_basis())) {
    d.allow = true;
    d.rule = Rule::kLegalBasisAlwaysOn;
    return d;
  }
  const int32_t category = catalog.category_of(field);
  const CompiledChoices::Entry* by_category = nullptr;
  for (const CompiledChoices::Entry& e : choices.entries()) {
    if (e.purpose != purpose || e.expires_at <= now) continue;
    if (!e.is_category && e.target == field) {
      d.allow = e.allow;
      d.rule = Rule::kCustomerFieldChoice;
      d.choice_index = e.source_index;
      return d;
    }
    if (e.is_category && e.target == category) by_category = &e;
  }
  if (by_category != nullptr) {
    d.allow = by_category->allow;
    d.rule = Rule::kCustomerCategoryChoice;
    d.choice_index = by_category->source_index;
    return d;
  }
  if (def.legal_basis() == v1::LEGITIMATE_INTEREST) {
    d.allow = true;
    d.rule = Rule::kLegitimateInterestDefault;
  } else {
    d.rule = Rule::kConsentDefaultOff;
  }
  return d;
}

Decision Decide(const Catalog& catalog, const CustomerChoices& choices, std::string_view purpose,
                std::string_view field, absl::Time now) {
  std::optional<PurposeId> p = catalog.FindPurpose(purpose);
  std::optional<FieldId> f = catalog.FindField(field);
  return Decide(catalog, CompiledChoices(catalog, choices), p.value_or(-1), f.value_or(-1), now);
}

}  // namespace cdp::consent
