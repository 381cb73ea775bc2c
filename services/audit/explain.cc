#include "services/audit/explain.h"

#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/audit/event_store.h"
#include "services/common/proto_time.h"

namespace cdp::audit {
namespace {

struct Words {
  bool nl;
  const char* Pick(const char* dutch, const char* english) const { return nl ? dutch : english; }
};

std::string Text(const v1::LocalizedText& t, const Words& w) { return w.nl ? t.nl() : t.en(); }

// "a", "a en b", "a, b en c".
std::string List(const std::vector<std::string>& items, const Words& w) {
  if (items.size() <= 1) return items.empty() ? "" : items[0];
  std::vector<std::string> head(items.begin(), items.end() - 1);
  return absl::StrCat(absl::StrJoin(head, ", "), w.Pick(" en ", " and "), items.back());
}

std::string FieldTitle(const consent::Catalog& catalog, const std::string& field, const Words& w) {
  auto id = catalog.FindField(field);
  if (!id) return field;
  const std::string t = Text(catalog.field(*id).title(), w);
  return t.empty() ? field : t;
}

const char* ReasonPhrase(const std::string& rule, const Words& w) {
  if (rule == "customer_field_choice" || rule == "customer_category_choice") {
    return w.Pick("u heeft dit uitgezet", "you switched this off");
  }
  if (rule == "consent_default_off") return w.Pick("u gaf hiervoor geen toestemming", "you have not agreed to it");
  if (rule == "restricted_by_customer") {
    return w.Pick("u heeft het gebruik van uw gegevens laten beperken", "you had the use of your data restricted");
  }
  if (rule == "outside_purpose_scope") return w.Pick("niet nodig voor dit doel", "not needed for this purpose");
  if (rule == "purpose_not_granted_to_caller") {
    return w.Pick("deze dienst mag uw gegevens niet voor dit doel gebruiken",
                  "this service may not use your data for this purpose");
  }
  return w.Pick("niet toegestaan", "not allowed");
}

const char* JustificationPhrase(v1::Justification::Code code, const Words& w) {
  switch (code) {
    case v1::Justification::CUSTOMER_REQUEST: return w.Pick("op uw verzoek", "at your request");
    case v1::Justification::ORDER_FULFILMENT: return w.Pick("om uw bestelling af te handelen", "to fulfil your order");
    case v1::Justification::BILLING_RUN: return w.Pick("voor de facturering", "for billing");
    case v1::Justification::FRAUD_ALERT: return w.Pick("na een fraudemelding", "after a fraud alert");
    case v1::Justification::LEGAL_REQUEST:
      return w.Pick("op verzoek van een bevoegde instantie", "at the request of an authority");
    case v1::Justification::SCHEDULED_PROCESSING: return w.Pick("als geplande verwerking", "as scheduled processing");
    case v1::Justification::SERVICE_IMPROVEMENT:
      return w.Pick("om onze dienstverlening te verbeteren", "to improve our service");
    default: return "";
  }
}

const char* KindPhrase(v1::ActingParty::Kind kind, const Words& w) {
  switch (kind) {
    case v1::ActingParty::HUMAN_AGENT: return w.Pick("een mens", "a person");
    case v1::ActingParty::BOT: return w.Pick("een bot, geen mens", "a bot, not a person");
    case v1::ActingParty::AUTOMATED_SYSTEM: return w.Pick("een geautomatiseerd systeem", "an automated system");
    case v1::ActingParty::DATA_SUBJECT: return w.Pick("op uw eigen verzoek", "at your own request");
    default: return "";
  }
}

std::string When(absl::Time t, absl::TimeZone zone, const Words& w) {
  static const char* kNl[] = {"januari", "februari", "maart",     "april",   "mei",      "juni",
                              "juli",    "augustus", "september", "oktober", "november", "december"};
  static const char* kEn[] = {"January", "February", "March",     "April",   "May",      "June",
                              "July",    "August",   "September", "October", "November", "December"};
  const absl::CivilSecond c = absl::ToCivilSecond(t, zone);
  const char* month = (w.nl ? kNl : kEn)[c.month() - 1];
  return absl::StrCat(w.Pick("Op ", "On "), c.day(), " ", month, " ", c.year(), w.Pick(" om ", " at "),
                      absl::FormatTime("%H:%M", t, zone));
}

}  // namespace

std::string Explain(const consent::Catalog& catalog, const v1::AccessEvent& e, std::string_view language,
                    absl::TimeZone zone) {
  const Words w{language != "en"};
  // Who: the calling service as the catalog calls it, and what kind of party acted.
  const v1::CallerDef* caller = catalog.FindCaller(e.caller());
  std::string who = caller != nullptr ? Text(caller->title(), w) : e.caller();
  if (const char* kind = KindPhrase(e.acting_party().kind(), w); *kind != '\0') absl::StrAppend(&who, " (", kind, ")");

  // An auditor's look at the log itself (services/audit/audit_api.cc logs those).
  if (e.purpose() == kAccessLogReview) {
    std::string out = absl::StrCat(When(FromProtoTime(e.time()), zone, w), w.Pick(" heeft ", " "), who,
                                   w.Pick(" in het toegangslogboek gekeken naar wie uw gegevens gebruikte",
                                          " looked in the access log at who used your data"));
    if (const char* why = JustificationPhrase(e.justification().code(), w); *why != '\0') {
      absl::StrAppend(&out, ", ", why);
    }
    if (!e.justification().reference().empty()) absl::StrAppend(&out, " (", e.justification().reference(), ")");
    absl::StrAppend(&out, w.Pick(". Zo wordt gecontroleerd dat uw gegevens alleen volgens de regels worden gebruikt.",
                                 ". This checks that your data is used only as the rules allow."));
    return out;
  }
  std::vector<std::string> released;
  for (const std::string& f : e.fields_released()) released.push_back(FieldTitle(catalog, f, w));
  // Withheld fields grouped by reason, in a stable order.
  std::map<std::string, std::vector<std::string>> withheld;
  for (const auto& [field, rule] : e.fields_withheld()) withheld[rule].push_back(FieldTitle(catalog, field, w));

  std::string out = When(FromProtoTime(e.time()), zone, w);
  if (!released.empty()) {
    absl::StrAppend(&out, w.Pick(" heeft ", " "), who, w.Pick(" ", " looked at "), List(released, w),
                    w.Pick(" bekeken.", "."));
  } else if (withheld.empty()) {
    // Allowed, but nothing of what was asked for is held about the customer.
    absl::StrAppend(&out, w.Pick(" heeft ", " "), who,
                    w.Pick(" uw gegevens opgevraagd, maar wij hadden daarvan niets over u.",
                           " asked for your data, but we held none of what was asked."));
  } else {
    std::vector<std::string> asked;
    for (const auto& [rule, fields] : withheld) asked.insert(asked.end(), fields.begin(), fields.end());
    absl::StrAppend(&out, w.Pick(" wilde ", " "), who, w.Pick(" ", " wanted to look at "), List(asked, w),
                    w.Pick(" bekijken, maar kreeg niets te zien.", ", but was shown nothing."));
  }
  // Why: the purpose, the justification and its reference.
  std::string purpose = e.purpose();
  if (auto p = catalog.FindPurpose(e.purpose())) purpose = Text(catalog.purpose(*p).title(), w);
  absl::StrAppend(&out, w.Pick(" Doel: ", " Purpose: "), purpose);
  if (const char* why = JustificationPhrase(e.justification().code(), w); *why != '\0') {
    absl::StrAppend(&out, ", ", why);
  }
  if (!e.justification().reference().empty()) absl::StrAppend(&out, " (", e.justification().reference(), ")");
  absl::StrAppend(&out, ".");
  if (auto p = catalog.FindPurpose(e.purpose())) {
    const std::string basis = Text(catalog.legal_basis(catalog.purpose(*p).legal_basis()).title(), w);
    if (!basis.empty()) absl::StrAppend(&out, w.Pick(" Grondslag: ", " Legal basis: "), basis, ".");
  }
  if (!withheld.empty()) {
    std::vector<std::string> parts;
    for (const auto& [rule, fields] : withheld) {
      parts.push_back(absl::StrCat(List(fields, w), " (", ReasonPhrase(rule, w), ")"));
    }
    absl::StrAppend(&out, w.Pick(" Niet getoond: ", " Not shown: "), absl::StrJoin(parts, "; "), ".");
  }
  return out;
}

}  // namespace cdp::audit
