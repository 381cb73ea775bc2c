#include "consent/decision.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cdp::consent {
namespace {

const std::string kDefault = std::string(CDP_SOURCE_DIR) + "/consent/catalog/default.textproto";
const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

class DecisionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loaded = Catalog::FromFile(kDefault);
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    catalog_ = *loaded;
  }
  Decision D(const CustomerChoices& c, const std::string& purpose, const std::string& field) {
    return Decide(*catalog_, c, purpose, field, kNow);
  }
  std::shared_ptr<const Catalog> catalog_;
};

TEST_F(DecisionTest, ARestrictionDeniesEveryPurposeButLegalObligations) {
  CustomerChoices c{4, {{.field = "email", .purpose = "direct-marketing", .allow = true}}};
  c.restricted_all = true;
  // Even an explicit yes and a contract give way to the restriction (Art. 18)...
  EXPECT_FALSE(D(c, "direct-marketing", "email").allow);
  EXPECT_EQ(D(c, "direct-marketing", "email").rule, Rule::kRestrictedByCustomer);
  EXPECT_FALSE(D(c, "customer-care-human", "email").allow);
  EXPECT_EQ(D(c, "customer-care-human", "email").rule, Rule::kRestrictedByCustomer);
  // ... but what the law requires goes on, and scope still comes first.
  EXPECT_TRUE(D(c, "legal-retention", "invoice_history").allow);
  EXPECT_EQ(D(c, "legal-retention", "invoice_history").rule, Rule::kLegalBasisAlwaysOn);
  EXPECT_EQ(D(c, "order-delivery", "date_of_birth").rule, Rule::kOutsidePurposeScope);
}

TEST_F(DecisionTest, ARestrictionOfNamedPurposesLeavesTheOthers) {
  CustomerChoices c;
  c.restricted_purposes = {"customer-care-human", "no-such-purpose"};
  EXPECT_EQ(D(c, "customer-care-human", "email").rule, Rule::kRestrictedByCustomer);
  EXPECT_TRUE(D(c, "order-delivery", "delivery_address").allow);
  EXPECT_TRUE(D(c, "service-analytics", "contact_history").allow);
}

TEST_F(DecisionTest, ConsentPurposeIsOffUntilTheCustomerSaysYes) {
  Decision d = D({}, "direct-marketing", "email");
  EXPECT_FALSE(d.allow);
  EXPECT_EQ(d.rule, Rule::kConsentDefaultOff);
  EXPECT_EQ(d.legal_basis, v1::CONSENT);
}

TEST_F(DecisionTest, FieldChoiceAllowsAndCarriesTheVersion) {
  CustomerChoices c{7, {{.field = "email", .purpose = "direct-marketing", .allow = true}}};
  Decision d = D(c, "direct-marketing", "email");
  EXPECT_TRUE(d.allow);
  EXPECT_EQ(d.rule, Rule::kCustomerFieldChoice);
  EXPECT_EQ(d.consent_version, 7);
  EXPECT_EQ(d.choice_index, 0);
}

TEST_F(DecisionTest, FieldChoiceBeatsCategoryChoice) {
  CustomerChoices c{3,
                    {{.category = v1::CONTACT, .purpose = "direct-marketing", .allow = true},
                     {.field = "phone_mobile", .purpose = "direct-marketing", .allow = false}}};
  EXPECT_TRUE(D(c, "direct-marketing", "email").allow);
  EXPECT_EQ(D(c, "direct-marketing", "email").rule, Rule::kCustomerCategoryChoice);
  EXPECT_FALSE(D(c, "direct-marketing", "phone_mobile").allow);
  EXPECT_EQ(D(c, "direct-marketing", "phone_mobile").rule, Rule::kCustomerFieldChoice);
}

TEST_F(DecisionTest, ExpiredChoiceFallsBackToTheDefault) {
  CustomerChoices c{2, {{.field = "email", .purpose = "direct-marketing", .allow = true,
                         .expires_at = kNow - absl::Seconds(1)}}};
  EXPECT_FALSE(D(c, "direct-marketing", "email").allow);
  EXPECT_EQ(D(c, "direct-marketing", "email").rule, Rule::kConsentDefaultOff);
}

TEST_F(DecisionTest, LegitimateInterestIsOnUntilTheCustomerObjects) {
  EXPECT_TRUE(D({}, "service-analytics", "contact_history").allow);
  CustomerChoices objected{1, {{.category = v1::INTERACTIONS, .purpose = "service-analytics",
                                .allow = false}}};
  EXPECT_FALSE(D(objected, "service-analytics", "contact_history").allow);
}

TEST_F(DecisionTest, ContractAndLegalObligationCannotBeSwitchedOff) {
  CustomerChoices c{1, {{.field = "delivery_address", .purpose = "order-delivery", .allow = false}}};
  Decision d = D(c, "order-delivery", "delivery_address");
  EXPECT_TRUE(d.allow);
  EXPECT_EQ(d.rule, Rule::kLegalBasisAlwaysOn);
  EXPECT_EQ(D({}, "legal-retention", "invoice_history").legal_basis, v1::LEGAL_OBLIGATION);
}

TEST_F(DecisionTest, FieldOutsideThePurposeScopeIsNeverReleased) {
  // Delivery needs an address, never a date of birth, whatever the customer chose.
  CustomerChoices c{1, {{.field = "date_of_birth", .purpose = "order-delivery", .allow = true}}};
  EXPECT_FALSE(D(c, "order-delivery", "date_of_birth").allow);
  EXPECT_EQ(D(c, "order-delivery", "date_of_birth").rule, Rule::kOutsidePurposeScope);
}

TEST_F(DecisionTest, UnknownPurposeOrFieldIsDenied) {
  EXPECT_EQ(D({}, "world-domination", "email").rule, Rule::kUnknownPurpose);
  EXPECT_FALSE(D({}, "world-domination", "email").allow);
  EXPECT_EQ(D({}, "billing", "shoe_size").rule, Rule::kUnknownField);
  EXPECT_FALSE(D({}, "billing", "shoe_size").allow);
}

TEST(RuleNameTest, NamesAreStable) {
  EXPECT_STREQ(RuleName(Rule::kCustomerFieldChoice), "customer_field_choice");
  EXPECT_STREQ(RuleName(Rule::kOutsidePurposeScope), "outside_purpose_scope");
}

}  // namespace
}  // namespace cdp::consent
