// Explanations as a customer reads them, in both languages.
#include "services/audit/explain.h"

#include "gtest/gtest.h"
#include "services/common/proto_time.h"
#include "tests/testing/status_matchers.h"

namespace cdp::audit {
namespace {

const std::string kCatalog = std::string(CDP_SOURCE_DIR) + "/consent/catalog/default.textproto";

class ExplainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto catalog = consent::Catalog::FromFile(kCatalog);
    ASSERT_TRUE(catalog.ok());
    catalog_ = *catalog;
    ASSERT_TRUE(absl::LoadTimeZone("Europe/Amsterdam", &zone_));
  }
  v1::AccessEvent Event(const std::string& caller, v1::ActingParty::Kind kind, const std::string& purpose) {
    v1::AccessEvent e;
    e.set_caller(caller);
    e.mutable_acting_party()->set_kind(kind);
    e.mutable_acting_party()->set_id("agent-7");
    e.set_purpose(purpose);
    e.mutable_justification()->set_code(v1::Justification::CUSTOMER_REQUEST);
    e.mutable_justification()->set_reference("bestelling 123");
    // 12 November 2026, 14:03 in Amsterdam (13:03 UTC).
    *e.mutable_time() = ToProtoTime(absl::FromCivil(absl::CivilSecond(2026, 11, 12, 13, 3, 0), absl::UTCTimeZone()));
    return e;
  }
  std::shared_ptr<const consent::Catalog> catalog_;
  absl::TimeZone zone_;
};

TEST_F(ExplainTest, APersonLookedAndSomethingWasWithheld) {
  v1::AccessEvent e = Event("spiffe://cdp.local/service/support-desk", v1::ActingParty::HUMAN_AGENT,
                            "customer-care-human");
  e.add_fields_released("email");
  e.add_fields_released("given_name");
  (*e.mutable_fields_withheld())["date_of_birth"] = "outside_purpose_scope";
  EXPECT_EQ(Explain(*catalog_, e, "nl", zone_),
            "Op 12 november 2026 om 14:03 heeft een medewerker van de klantenservice (een mens) uw e-mailadres en "
            "uw voornaam bekeken. Doel: Klantenservice door een medewerker, op uw verzoek (bestelling 123). "
            "Grondslag: Overeenkomst. Niet getoond: uw geboortedatum (niet nodig voor dit doel).");
  EXPECT_EQ(Explain(*catalog_, e, "en", zone_),
            "On 12 November 2026 at 14:03 a customer-service employee (a person) looked at your e-mail address and "
            "your first name. Purpose: Customer care by a person, at your request (bestelling 123). "
            "Legal basis: Contract. Not shown: your date of birth (not needed for this purpose).");
}

TEST_F(ExplainTest, ABotIsNamedAsABotAndARefusalSaysNothingWasShown) {
  v1::AccessEvent e = Event("spiffe://cdp.local/service/chatbot", v1::ActingParty::BOT, "customer-care-bot");
  (*e.mutable_fields_withheld())["email"] = "customer_field_choice";
  const std::string nl = Explain(*catalog_, e, "nl", zone_);
  EXPECT_NE(nl.find("onze chatbot (een bot, geen mens) uw e-mailadres bekijken, maar kreeg niets te zien"),
            std::string::npos)
      << nl;
  EXPECT_NE(nl.find("Niet getoond: uw e-mailadres (u heeft dit uitgezet)."), std::string::npos) << nl;
  const std::string en = Explain(*catalog_, e, "en", zone_);
  EXPECT_NE(en.find("our chatbot (a bot, not a person) wanted to look at your e-mail address, but was shown nothing"),
            std::string::npos)
      << en;
}

TEST_F(ExplainTest, AnAllowedReadThatFoundNothingIsNotARefusal) {
  v1::AccessEvent e = Event("spiffe://cdp.local/service/support-desk", v1::ActingParty::HUMAN_AGENT,
                            "customer-care-human");
  const std::string nl = Explain(*catalog_, e, "nl", zone_);
  EXPECT_NE(nl.find("uw gegevens opgevraagd, maar wij hadden daarvan niets over u."), std::string::npos) << nl;
  EXPECT_EQ(nl.find("kreeg niets te zien"), std::string::npos) << nl;
}

TEST_F(ExplainTest, AnAuditorsLookAtTheLogIsExplainedAsSuch) {
  v1::AccessEvent e = Event("spiffe://cdp.local/auditor/dpo", v1::ActingParty::HUMAN_AGENT, "access-log-review");
  e.mutable_justification()->set_code(v1::Justification::LEGAL_REQUEST);
  e.mutable_justification()->set_reference("AP-2026-17");
  e.add_fields_released("access_events");
  EXPECT_EQ(Explain(*catalog_, e, "nl", zone_),
            "Op 12 november 2026 om 14:03 heeft de functionaris gegevensbescherming (een mens) in het "
            "toegangslogboek gekeken naar wie uw gegevens gebruikte, op verzoek van een bevoegde instantie "
            "(AP-2026-17). Zo wordt gecontroleerd dat uw gegevens alleen volgens de regels worden gebruikt.");
  EXPECT_NE(Explain(*catalog_, e, "en", zone_).find("the data protection officer (a person) looked in the access log"),
            std::string::npos);
}

}  // namespace
}  // namespace cdp::audit
