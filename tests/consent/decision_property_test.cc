// Property test: the decision function against a reference model written straight from the
// rules, over random catalogs, choices, expiries and queries (fixed seeds).
#include <map>
#include <random>

#include "absl/strings/str_cat.h"
#include "consent/decision.h"
#include "gtest/gtest.h"

namespace cdp::consent {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

v1::LocalizedText Text() {
  v1::LocalizedText t;
  t.set_nl("x");
  t.set_en("x");
  return t;
}

v1::Catalog RandomCatalog(std::mt19937& rng) {
  v1::Catalog c;
  c.set_version("random");
  for (auto [basis, term] : {std::pair{v1::CONSENT, "dpv:Consent"},
                             {v1::LEGITIMATE_INTEREST, "dpv:LegitimateInterest"},
                             {v1::CONTRACT, "dpv:Contract"},
                             {v1::LEGAL_OBLIGATION, "dpv:LegalObligation"}}) {
    auto* b = c.add_legal_bases();
    b->set_basis(basis);
    b->set_dpv_term(term);
    *b->mutable_title() = Text();
    *b->mutable_description() = Text();
  }
  int fields = 1 + static_cast<int>(rng() % 12);
  for (int i = 0; i < fields; ++i) {
    auto* f = c.add_fields();
    f->set_name(absl::StrCat("f", i));
    f->set_category(static_cast<v1::Category>(1 + rng() % 8));
    f->set_sensitivity(v1::MEDIUM);
    *f->mutable_title() = Text();
  }
  int purposes = 1 + static_cast<int>(rng() % 6);
  for (int i = 0; i < purposes; ++i) {
    auto* p = c.add_purposes();
    p->set_name(absl::StrCat("p", i));
    p->set_dpv_term("dpv:Purpose");
    p->set_legal_basis(static_cast<v1::LegalBasis>(1 + rng() % 4));
    *p->mutable_title() = Text();
    *p->mutable_description() = Text();
    *p->mutable_locked_reason() = Text();
    for (int k = 1; k <= 8; ++k) {
      if (rng() % 4 == 0) p->add_categories(static_cast<v1::Category>(k));
    }
    for (int k = 0; k < fields; ++k) {
      if (rng() % 3 == 0) p->add_fields(absl::StrCat("f", k));
    }
    if (p->categories_size() == 0 && p->fields_size() == 0) p->add_fields("f0");
  }
  c.mutable_controller()->set_name("controller");
  return c;
}

// Names that usually exist in the catalog, sometimes not (f0..f11 and p0..p5 may exist).
std::string SomeField(std::mt19937& rng, int known = 12) {
  return absl::StrCat("f", rng() % static_cast<unsigned>(known + 1));
}
std::string SomePurpose(std::mt19937& rng, int known = 6) {
  return absl::StrCat("p", rng() % static_cast<unsigned>(known + 1));
}

CustomerChoices RandomChoices(std::mt19937& rng) {
  // At most one choice per (target, purpose), as the store keeps only the current one.
  std::map<std::pair<std::string, std::string>, Choice> current;
  int n = static_cast<int>(rng() % 10);
  for (int i = 0; i < n; ++i) {
    Choice c;
    bool category = rng() % 2 == 0;
    if (category) {
      c.category = static_cast<v1::Category>(1 + rng() % 8);
    } else {
      c.field = SomeField(rng);
    }
    c.purpose = SomePurpose(rng);
    c.allow = rng() % 2 == 0;
    switch (rng() % 3) {
      case 0: break;  // no expiry
      case 1: c.expires_at = kNow - absl::Seconds(1 + rng() % 1000); break;
      case 2: c.expires_at = kNow + absl::Seconds(rng() % 3); break;  // often exactly now
    }
    std::string target = category ? absl::StrCat("#", c.category) : c.field;
    current[{target, c.purpose}] = c;
  }
  CustomerChoices out{static_cast<int64_t>(rng() % 100), {}};
  for (auto& [key, c] : current) out.choices.push_back(c);
  return out;
}

struct Expected {
  bool allow;
  Rule rule;
};

// The rules of decision.h, written as plainly as possible.
Expected Reference(const v1::Catalog& c, const CustomerChoices& choices, const std::string& purpose,
                   const std::string& field, absl::Time now) {
  const v1::PurposeDef* p = nullptr;
  for (const auto& x : c.purposes()) if (x.name() == purpose) p = &x;
  if (p == nullptr) return {false, Rule::kUnknownPurpose};
  const v1::FieldDef* f = nullptr;
  for (const auto& x : c.fields()) if (x.name() == field) f = &x;
  if (f == nullptr) return {false, Rule::kUnknownField};
  bool in_scope = false;
  for (int cat : p->categories()) if (cat == f->category()) in_scope = true;
  for (const auto& name : p->fields()) if (name == field) in_scope = true;
  if (!in_scope) return {false, Rule::kOutsidePurposeScope};
  if (p->legal_basis() == v1::CONTRACT || p->legal_basis() == v1::LEGAL_OBLIGATION) {
    return {true, Rule::kLegalBasisAlwaysOn};
  }
  for (const Choice& ch : choices.choices) {
    if (ch.field == field && ch.purpose == purpose && ch.expires_at > now) {
      return {ch.allow, Rule::kCustomerFieldChoice};
    }
  }
  for (const Choice& ch : choices.choices) {
    if (ch.field.empty() && ch.category == f->category() && ch.purpose == purpose &&
        ch.expires_at > now) {
      return {ch.allow, Rule::kCustomerCategoryChoice};
    }
  }
  if (p->legal_basis() == v1::LEGITIMATE_INTEREST) return {true, Rule::kLegitimateInterestDefault};
  return {false, Rule::kConsentDefaultOff};
}

TEST(DecisionPropertyTest, AgreesWithTheReferenceModel) {
  int cases = 0;
  int allowed = 0;
  std::map<Rule, int> rules_seen;
  for (uint32_t seed : {1u, 2u, 3u, 42u, 2026u}) {
    std::mt19937 rng(seed);
    for (int k = 0; k < 200; ++k) {
      v1::Catalog proto = RandomCatalog(rng);
      auto catalog = Catalog::FromProto(proto);
      ASSERT_TRUE(catalog.ok()) << catalog.status();
      for (int j = 0; j < 10; ++j) {
        CustomerChoices choices = RandomChoices(rng);
        for (int q = 0; q < 10; ++q) {
          std::string purpose = SomePurpose(rng, proto.purposes_size());
          std::string field = SomeField(rng, proto.fields_size());
          Decision got = Decide(**catalog, choices, purpose, field, kNow);
          Expected want = Reference(proto, choices, purpose, field, kNow);
          ASSERT_EQ(got.allow, want.allow)
              << "seed " << seed << " purpose " << purpose << " field " << field;
          ASSERT_EQ(got.rule, want.rule) << "seed " << seed << " purpose " << purpose
                                         << " field " << field;
          ASSERT_EQ(got.consent_version, choices.version);
          ++cases;
          allowed += got.allow;
          ++rules_seen[got.rule];
        }
      }
    }
  }
  EXPECT_EQ(cases, 100000);
  // The generator must reach every rule, or the comparison proves little.
  EXPECT_EQ(rules_seen.size(), 8u);
  EXPECT_GT(allowed, cases / 10);
  EXPECT_LT(allowed, cases * 9 / 10);
}

}  // namespace
}  // namespace cdp::consent
