#include "consent/catalog.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace cdp::consent {
namespace {

using ::cdp::testing::IsOk;
using ::cdp::testing::StatusIs;
using ::testing::HasSubstr;

const std::string kDefault = std::string(CDP_SOURCE_DIR) + "/consent/catalog/default.textproto";

constexpr char kMinimal[] = R"pb(
  version: "t1"
  legal_bases { basis: CONSENT dpv_term: "dpv:Consent" title { nl: "a" en: "a" } description { nl: "a" en: "a" } }
  legal_bases { basis: LEGITIMATE_INTEREST dpv_term: "dpv:LegitimateInterest" title { nl: "a" en: "a" } description { nl: "a" en: "a" } }
  legal_bases { basis: CONTRACT dpv_term: "dpv:Contract" title { nl: "a" en: "a" } description { nl: "a" en: "a" } }
  legal_bases { basis: LEGAL_OBLIGATION dpv_term: "dpv:LegalObligation" title { nl: "a" en: "a" } description { nl: "a" en: "a" } }
  fields { name: "email" category: CONTACT sensitivity: MEDIUM title { nl: "e" en: "e" } }
  purposes {
    name: "direct-marketing"
    dpv_term: "dpv:DirectMarketing"
    legal_basis: CONSENT
    title { nl: "m" en: "m" }
    description { nl: "m" en: "m" }
    fields: "email"
  }
  callers { id: "spiffe://cdp.local/service/marketing" title { nl: "m" en: "m" } acts_as: AUTOMATED_SYSTEM purposes: "direct-marketing" }
  callers { id: "spiffe://cdp.local/service/portal" title { nl: "p" en: "p" } acts_as: DATA_SUBJECT permissions: MANAGE_CONSENT }
  controller { name: "Voorbeeld B.V." jurisdiction: "NL" }
)pb";

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return text.replace(at, from.size(), to);
}

TEST(CatalogTest, DefaultCatalogLoadsWithTheRequiredBreadth) {
  auto catalog = Catalog::FromFile(kDefault);
  ASSERT_THAT(catalog, IsOk());
  EXPECT_GE((*catalog)->field_count(), 15);
  EXPECT_GE((*catalog)->purpose_count(), 10);
  EXPECT_NE((*catalog)->FindCaller("spiffe://cdp.local/service/support-desk"), nullptr);
  for (const char* purpose :
       {"customer-care-human", "customer-care-bot", "order-delivery", "billing",
        "fraud-prevention", "legal-retention", "direct-marketing", "personalised-offers",
        "service-analytics", "delivery-partner-sharing", "ai-model-training"}) {
    EXPECT_TRUE((*catalog)->FindPurpose(purpose).has_value()) << purpose;
  }
}

TEST(CatalogTest, IndexesScopeByCategoryAndField) {
  auto catalog = Catalog::FromText(kMinimal, "t.textproto");
  ASSERT_THAT(catalog, IsOk());
  const Catalog& c = **catalog;
  EXPECT_TRUE(c.InScope(*c.FindPurpose("direct-marketing"), *c.FindField("email")));
  EXPECT_FALSE(c.FindField("phone").has_value());
  const v1::CallerDef* marketing = c.FindCaller("spiffe://cdp.local/service/marketing");
  ASSERT_NE(marketing, nullptr);
  EXPECT_TRUE(c.CallerMayClaim(*marketing, "direct-marketing"));
  EXPECT_FALSE(c.CallerMayClaim(*marketing, "billing"));
}

TEST(CatalogTest, SyntaxErrorGivesFileLineAndColumn) {
  std::string text = Replace(kMinimal, "category: CONTACT", "category: KONTACT");
  EXPECT_THAT(Catalog::FromText(text, "cat.textproto"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cat.textproto:7:44: Unknown enumeration value of \"KONTACT\"")));
}

TEST(CatalogTest, UnknownFieldInPurposeIsNamedWithItsLine) {
  std::string text = Replace(kMinimal, "fields: \"email\"", "fields: \"emial\"");
  EXPECT_THAT(Catalog::FromText(text, "cat.textproto"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("cat.textproto:14:5: purpose \"direct-marketing\": unknown "
                                 "field \"emial\"")));
}

TEST(CatalogTest, UnknownPurposeOfCallerIsNamed) {
  std::string text = Replace(kMinimal, "purposes: \"direct-marketing\" }", "purposes: \"spam\" }");
  EXPECT_THAT(Catalog::FromText(text, "cat.textproto"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("cat.textproto:16:")));
  EXPECT_THAT(Catalog::FromText(text, "cat.textproto"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown purpose \"spam\"")));
}

TEST(CatalogTest, LockedPurposeNeedsItsReason) {
  std::string text = Replace(kMinimal, "legal_basis: CONSENT", "legal_basis: CONTRACT");
  EXPECT_THAT(Catalog::FromText(text, "cat.textproto"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("purpose \"direct-marketing\": cannot be switched off")));
}

TEST(CatalogTest, DuplicateAndBadlyNamedFieldsAreRefused) {
  std::string dup = Replace(kMinimal, "  purposes {",
                            "  fields { name: \"email\" category: CONTACT sensitivity: LOW "
                            "title { nl: \"e\" en: \"e\" } }\n  purposes {");
  EXPECT_THAT(Catalog::FromText(dup, "cat.textproto"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("field \"email\": defined twice")));
  std::string upper = Replace(kMinimal, "name: \"email\"", "name: \"E-mail\"");
  EXPECT_THAT(Catalog::FromText(upper, "cat.textproto"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("field \"E-mail\"")));
}

TEST(CatalogTest, MissingTranslationIsRefused) {
  std::string text = Replace(kMinimal, "title { nl: \"e\" en: \"e\" }", "title { nl: \"e\" }");
  EXPECT_THAT(Catalog::FromText(text, "cat.textproto"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("nl and en")));
}

TEST(CatalogTest, CallerPermissionsAreIndexedAndValidated) {
  auto catalog = Catalog::FromText(kMinimal, "t.textproto");
  ASSERT_THAT(catalog, IsOk());
  const v1::CallerDef* portal = (*catalog)->FindCaller("spiffe://cdp.local/service/portal");
  ASSERT_NE(portal, nullptr);
  EXPECT_TRUE(Catalog::CallerHas(*portal, v1::MANAGE_CONSENT));
  EXPECT_FALSE(Catalog::CallerHas(*portal, v1::WATCH_CONSENT));

  std::string twice = Replace(kMinimal, "permissions: MANAGE_CONSENT",
                              "permissions: MANAGE_CONSENT permissions: MANAGE_CONSENT");
  EXPECT_THAT(Catalog::FromText(twice, "t.textproto"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("t.textproto:17:")));
  std::string nothing = Replace(kMinimal, "permissions: MANAGE_CONSENT", "");
  EXPECT_THAT(Catalog::FromText(nothing, "t.textproto"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("caller \"spiffe://cdp.local/service/portal\": needs purposes or permissions")));
}

TEST(CatalogTest, ControllerIsRequiredForReceipts) {
  std::string text = Replace(kMinimal, "controller { name: \"Voorbeeld B.V.\" jurisdiction: \"NL\" }", "");
  EXPECT_THAT(Catalog::FromText(text, "t.textproto"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("controller: name must be set")));
}

TEST(CatalogTest, UnreadableFileIsNamed) {
  EXPECT_THAT(Catalog::FromFile("/nonexistent/catalog.textproto"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("/nonexistent/catalog.textproto")));
}

}  // namespace
}  // namespace cdp::consent
