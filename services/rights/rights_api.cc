#include "services/rights/rights_api.h"

#include <map>
#include <set>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "consent/state.h"
#include "services/common/escape.h"
#include "services/common/log.h"
#include "services/common/proto_time.h"
#include "services/common/status_macros.h"

namespace cdp::rights {
namespace {

using consent::kAccessLogReviewPurpose;
using consent::kDataSubjectAccessPurpose;
// The access log is read page by page; an export names every recipient of the last this
// many accesses (a long-standing customer's full history is in the auditors' export).
constexpr int kMaxEventPages = 50;

struct Words {
  bool nl;
  const char* Pick(const char* n, const char* e) const { return nl ? n : e; }
  std::string Pick(const v1::LocalizedText& t) const { return nl || t.en().empty() ? t.nl() : t.en(); }
};

std::string Time(absl::Time t) { return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone()); }

std::string BasisName(v1::LegalBasis b) { return absl::AsciiStrToLower(v1::LegalBasis_Name(b)); }

// One recipient: a calling service that was shown some of the customer's data.
struct Recipient {
  const v1::CallerDef* def = nullptr;
  std::string caller;
  std::set<std::string> purposes, fields, kinds;
  int64_t times = 0;
  absl::Time first = absl::InfiniteFuture(), last = absl::InfinitePast();
};

// A purpose that bots, automated systems or model training use (Art. 15(1)(h)).
struct AutomatedUse {
  const v1::PurposeDef* purpose = nullptr;
  std::set<v1::ActingParty::Kind> kinds;   // BOT, AUTOMATED_SYSTEM
  bool trains_models = false;
  bool allowed_now = false;                 // some field of the customer's is allowed for it
};

struct Model {
  std::string customer_id;
  absl::Time generated_at;
  v1::ProfileView profile;
  v1::ConsentState consent;
  std::map<std::string, Recipient> recipients;
  int64_t events_read = 0;
  bool events_complete = true;
  std::vector<AutomatedUse> automated;
};

std::vector<AutomatedUse> AutomatedUses(const consent::Catalog& catalog, const v1::ConsentState& consent) {
  std::vector<AutomatedUse> out;
  for (const v1::PurposeDef& p : catalog.proto().purposes()) {
    AutomatedUse use{.purpose = &p, .trains_models = p.name().find("model") != std::string::npos};
    for (const v1::CallerDef& k : catalog.proto().callers()) {
      if (catalog.CallerMayClaim(k, p.name()) &&
          (k.acts_as() == v1::ActingParty::BOT || k.acts_as() == v1::ActingParty::AUTOMATED_SYSTEM)) {
        use.kinds.insert(k.acts_as());
      }
    }
    if (use.kinds.empty() && !use.trains_models) continue;
    for (const v1::ConsentCell& cell : consent.cells()) use.allowed_now |= cell.purpose() == p.name() && cell.allow();
    out.push_back(std::move(use));
  }
  return out;
}

std::string KindWord(v1::ActingParty::Kind k, const Words& w) {
  switch (k) {
    case v1::ActingParty::HUMAN_AGENT: return w.Pick("mensen", "people");
    case v1::ActingParty::BOT: return w.Pick("bots", "bots");
    case v1::ActingParty::AUTOMATED_SYSTEM: return w.Pick("geautomatiseerde systemen", "automated systems");
    case v1::ActingParty::DATA_SUBJECT: return w.Pick("uzelf", "yourself");
    default: return "";
  }
}

std::string FieldTitle(const consent::Catalog& c, const std::string& f, const Words& w) {
  auto id = c.FindField(f);
  return id ? w.Pick(c.field(*id).title()) : f;
}

std::string RenderJson(const consent::Catalog& catalog, const Model& m, const Words& w) {
  const v1::Catalog& c = catalog.proto();
  auto J = [](const std::string& s) { return JsonString(s); };
  std::string out = absl::StrCat("{\n  \"format\": \"cdp-data-export/1\",\n  \"customer_id\": ", J(m.customer_id),
                                 ",\n  \"generated_at\": ", J(Time(m.generated_at)), ",\n  \"controller\": {\"name\": ",
                                 J(c.controller().name()), ", \"address\": ", J(c.controller().address()),
                                 ", \"email\": ", J(c.controller().email()), ", \"phone\": ", J(c.controller().phone()),
                                 ", \"privacy_statement\": ", J(c.controller().policy_url()), "},\n");
  // The data itself, with its source (Art. 15(1)(g), Art. 20).
  std::vector<std::string> items;
  std::set<std::string> sources;
  for (const v1::FieldDef& f : c.fields()) {
    auto v = m.profile.fields().find(f.name());
    if (v == m.profile.fields().end()) continue;
    v1::Lineage l;
    if (auto it = m.profile.lineage().find(f.name()); it != m.profile.lineage().end()) l = it->second;
    sources.insert(l.source_system());
    items.push_back(absl::StrCat("    {\"field\": ", J(f.name()), ", \"category\": ",
                                 J(consent::Catalog::CategoryName(f.category())), ", \"value\": ", J(v->second),
                                 ", \"source_system\": ", J(l.source_system()), ", \"record_id\": ", J(l.record_id()),
                                 ", \"changed_at\": ", J(Time(FromProtoTime(l.changed_at()))), "}"));
  }
  absl::StrAppend(&out, "  \"personal_data\": [\n", absl::StrJoin(items, ",\n"), "\n  ],\n");
  // (b) categories.
  std::map<int, std::vector<std::string>> by_category;
  for (const v1::FieldDef& f : c.fields()) {
    if (m.profile.fields().count(f.name())) by_category[f.category()].push_back(J(f.name()));
  }
  items.clear();
  for (const auto& [cat, fields] : by_category) {
    items.push_back(absl::StrCat("    {\"category\": ", J(consent::Catalog::CategoryName(static_cast<v1::Category>(cat))),
                                 ", \"fields\": [", absl::StrJoin(fields, ", "), "]}"));
  }
  absl::StrAppend(&out, "  \"categories\": [\n", absl::StrJoin(items, ",\n"), "\n  ],\n");
  // (a) purposes and legal bases, (d) retention, with what the customer allows now.
  std::map<std::string, std::vector<const v1::ConsentCell*>> cells;
  for (const v1::ConsentCell& cell : m.consent.cells()) cells[cell.purpose()].push_back(&cell);
  items.clear();
  for (const v1::PurposeDef& p : c.purposes()) {
    std::vector<std::string> allowed, denied;
    for (const v1::ConsentCell* cell : cells[p.name()]) {
      if (cell->rule() == "outside_purpose_scope") continue;
      (cell->allow() ? allowed : denied).push_back(J(cell->field()));
    }
    items.push_back(absl::StrCat(
        "    {\"purpose\": ", J(p.name()), ", \"title\": ", J(w.Pick(p.title())), ", \"description\": ",
        J(w.Pick(p.description())), ", \"legal_basis\": ", J(BasisName(p.legal_basis())), ", \"dpv\": ",
        J(p.dpv_term()), ", \"can_switch_off\": ", consent::Catalog::IsSwitchable(p.legal_basis()) ? "true" : "false",
        ", \"fields_allowed_now\": [", absl::StrJoin(allowed, ", "), "], \"fields_not_allowed_now\": [",
        absl::StrJoin(denied, ", "), "], \"retention_days\": ", p.retention_days(), ", \"retention\": ",
        J(p.retention_days() > 0 ? w.Pick(p.retention())
                                 : std::string(w.Pick("niet langer dan de relatie of uw toestemming duurt",
                                                      "no longer than the relationship or your consent lasts"))),
        "}"));
  }
  absl::StrAppend(&out, "  \"purposes\": [\n", absl::StrJoin(items, ",\n"), "\n  ],\n");
  // (c) recipients, from the access log.
  items.clear();
  for (const auto& [id, r] : m.recipients) {
    std::vector<std::string> purposes, fields, kinds;
    for (const auto& x : r.purposes) purposes.push_back(J(x));
    for (const auto& x : r.fields) fields.push_back(J(x));
    for (const auto& x : r.kinds) kinds.push_back(J(x));
    items.push_back(absl::StrCat("    {\"caller\": ", J(id), ", \"title\": ", J(r.def ? w.Pick(r.def->title()) : id),
                                 ", \"acting\": [", absl::StrJoin(kinds, ", "), "], \"purposes\": [",
                                 absl::StrJoin(purposes, ", "), "], \"fields\": [", absl::StrJoin(fields, ", "),
                                 "], \"times\": ", r.times, ", \"first\": ", J(Time(r.first)), ", \"last\": ",
                                 J(Time(r.last)), "}"));
  }
  absl::StrAppend(&out, "  \"recipients\": [\n", absl::StrJoin(items, ",\n"), "\n  ],\n",
                  "  \"recipients_complete\": ", m.events_complete ? "true" : "false", ",\n");
  // (g) sources.
  std::vector<std::string> src;
  for (const auto& s : sources) src.push_back(J(s));
  absl::StrAppend(&out, "  \"sources\": [", absl::StrJoin(src, ", "), "],\n");
  // (h) automated agents and models.
  items.clear();
  for (const AutomatedUse& use : m.automated) {
    std::vector<std::string> k;
    for (v1::ActingParty::Kind kind : use.kinds) k.push_back(J(absl::AsciiStrToLower(v1::ActingParty::Kind_Name(kind))));
    items.push_back(absl::StrCat("    {\"purpose\": ", J(use.purpose->name()), ", \"used_by\": [", absl::StrJoin(k, ", "),
                                 "], \"trains_models\": ", use.trains_models ? "true" : "false", ", \"allowed_now\": ",
                                 use.allowed_now ? "true" : "false", "}"));
  }
  absl::StrAppend(&out, "  \"automated_processing\": [\n", absl::StrJoin(items, ",\n"), "\n  ],\n",
                  "  \"automated_decisions_with_legal_effect\": false,\n");
  // (e), (f) rights and complaints.
  absl::StrAppend(&out,
                  "  \"your_rights\": [\"access\", \"rectification\", \"erasure\", \"restriction\", "
                  "\"objection\", \"portability\", \"withdraw_consent\"],\n"
                  "  \"complaint\": {\"authority\": \"Autoriteit Persoonsgegevens\", "
                  "\"url\": \"https://autoriteitpersoonsgegevens.nl\"},\n",
                  "  \"consent_version\": ", m.consent.version(), "\n}\n");
  return out;
}

std::string RenderHtml(const consent::Catalog& catalog, const Model& m, const Words& w) {
  const v1::Catalog& c = catalog.proto();
  auto H = [](const std::string& s) { return HtmlEscape(s); };
  std::string b = absl::StrCat(
      "<!doctype html>\n<html lang=\"", w.nl ? "nl" : "en", "\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>",
      w.Pick("Uw gegevens bij ", "Your data at "), H(c.controller().name()), "</title><style>"
      "body{font-family:system-ui,sans-serif;line-height:1.5;max-width:50rem;margin:1rem auto;padding:0 1rem;"
      "color:#1a1a1a}table{border-collapse:collapse;width:100%}th,td{text-align:left;vertical-align:top;"
      "padding:.3rem;border-bottom:1px solid #ccc}h2{margin-top:2rem}.muted{color:#4a4a4a}</style></head><body>"
      "<h1>", w.Pick("Uw gegevens bij ", "Your data at "), H(c.controller().name()), "</h1><p class=\"muted\">",
      w.Pick("Antwoord op uw verzoek om inzage (AVG artikel 15), opgesteld op ",
             "Answer to your access request (GDPR Article 15), made on "),
      H(Time(m.generated_at)), ". ", w.Pick("Klantnummer bij ons: ", "Your id with us: "), H(m.customer_id), "</p>");
  // (g) + the data.
  absl::StrAppend(&b, "<h2>", w.Pick("1. Welke gegevens wij van u hebben, en waar ze vandaan komen",
                                     "1. Which data we hold about you, and where it came from"),
                  "</h2><table><thead><tr><th>", w.Pick("Gegeven", "Item"), "</th><th>", w.Pick("Waarde", "Value"),
                  "</th><th>", w.Pick("Bron", "Source"), "</th></tr></thead><tbody>");
  for (const v1::FieldDef& f : c.fields()) {
    auto v = m.profile.fields().find(f.name());
    if (v == m.profile.fields().end()) continue;
    v1::Lineage l;
    if (auto it = m.profile.lineage().find(f.name()); it != m.profile.lineage().end()) l = it->second;
    absl::StrAppend(&b, "<tr><td>", H(w.Pick(f.title())), "</td><td>", H(v->second), "</td><td>",
                    H(l.source_system()), " (", H(l.record_id()), "), ", H(Time(FromProtoTime(l.changed_at()))),
                    "</td></tr>");
  }
  absl::StrAppend(&b, "</tbody></table>");
  // (b)
  std::map<int, std::vector<std::string>> by_category;
  for (const v1::FieldDef& f : c.fields()) {
    if (m.profile.fields().count(f.name())) by_category[f.category()].push_back(w.Pick(f.title()));
  }
  absl::StrAppend(&b, "<h2>", w.Pick("2. Soorten gegevens", "2. Categories of data"), "</h2><ul>");
  for (const auto& [cat, titles] : by_category) {
    absl::StrAppend(&b, "<li><strong>", H(consent::Catalog::CategoryName(static_cast<v1::Category>(cat))),
                    "</strong>: ", H(absl::StrJoin(titles, ", ")), "</li>");
  }
  absl::StrAppend(&b, "</ul>");
  // (a) + (d)
  std::map<std::string, std::vector<const v1::ConsentCell*>> cells;
  for (const v1::ConsentCell& cell : m.consent.cells()) cells[cell.purpose()].push_back(&cell);
  absl::StrAppend(&b, "<h2>", w.Pick("3. Waarvoor wij ze gebruiken, op welke grond, en hoe lang wij ze bewaren",
                                     "3. What we use them for, on what legal basis, and how long we keep them"),
                  "</h2>");
  for (const v1::PurposeDef& p : c.purposes()) {
    std::vector<std::string> allowed;
    for (const v1::ConsentCell* cell : cells[p.name()]) {
      if (cell->allow()) allowed.push_back(FieldTitle(catalog, cell->field(), w));
    }
    absl::StrAppend(&b, "<h3>", H(w.Pick(p.title())), "</h3><p>", H(w.Pick(p.description())), "</p><p>",
                    w.Pick("Grondslag: ", "Legal basis: "), H(w.Pick(catalog.legal_basis(p.legal_basis()).title())),
                    ". ", w.Pick("Bewaartermijn: ", "Kept: "),
                    H(p.retention_days() > 0 ? w.Pick(p.retention())
                                             : std::string(w.Pick("niet langer dan de relatie of uw toestemming duurt",
                                                                  "no longer than the relationship or your consent lasts"))),
                    ".</p><p>", w.Pick("Nu toegestaan: ", "Allowed now: "),
                    allowed.empty() ? w.Pick("niets", "nothing") : H(absl::StrJoin(allowed, ", ")), ".</p>");
  }
  // (c)
  absl::StrAppend(&b, "<h2>", w.Pick("4. Wie uw gegevens kreeg", "4. Who received your data"), "</h2>");
  if (m.recipients.empty()) {
    absl::StrAppend(&b, "<p>", w.Pick("Niemand.", "Nobody."), "</p>");
  } else {
    absl::StrAppend(&b, "<table><thead><tr><th>", w.Pick("Wie", "Who"), "</th><th>", w.Pick("Wat", "What"),
                    "</th><th>", w.Pick("Hoe vaak, wanneer", "How often, when"), "</th></tr></thead><tbody>");
    for (const auto& [id, r] : m.recipients) {
      std::vector<std::string> fields, kinds;
      for (const auto& f : r.fields) fields.push_back(FieldTitle(catalog, f, w));
      for (const auto& k : r.kinds) {
        v1::ActingParty::Kind kind;
        if (v1::ActingParty::Kind_Parse(absl::AsciiStrToUpper(k), &kind)) kinds.push_back(KindWord(kind, w));
      }
      absl::StrAppend(&b, "<tr><td>", H(r.def ? w.Pick(r.def->title()) : id), " (", H(absl::StrJoin(kinds, ", ")),
                      ")</td><td>", H(absl::StrJoin(fields, ", ")), "</td><td>", r.times, "&times;, ",
                      H(Time(r.first)), " &ndash; ", H(Time(r.last)), "</td></tr>");
    }
    absl::StrAppend(&b, "</tbody></table>");
  }
  if (!m.events_complete) {
    absl::StrAppend(&b, "<p class=\"muted\">", w.Pick("Dit zijn de ontvangers van de laatste ", "These are the recipients of the last "),
                    m.events_read, w.Pick(" keer dat iemand uw gegevens bekeek; vraag ons om de volledige lijst.",
                                          " looks at your data; ask us for the complete list."), "</p>");
  }
  // (h)
  absl::StrAppend(&b, "<h2>", w.Pick("5. Bots, geautomatiseerde systemen en AI-modellen",
                                     "5. Bots, automated systems and AI models"), "</h2><ul>");
  for (const AutomatedUse& use : m.automated) {
    std::vector<std::string> kinds;
    for (v1::ActingParty::Kind kind : use.kinds) kinds.push_back(KindWord(kind, w));
    absl::StrAppend(&b, "<li><strong>", H(w.Pick(use.purpose->title())), "</strong>: ",
                    use.trains_models ? w.Pick("traint modellen; ", "trains models; ") : "",
                    kinds.empty() ? "" : absl::StrCat(w.Pick("gedaan door ", "done by "),
                                                      H(absl::StrJoin(kinds, w.Pick(" en ", " and "))), "; "),
                    use.allowed_now ? w.Pick("gebruikt nu gegevens van u.", "uses some of your data now.")
                                    : w.Pick("gebruikt nu geen gegevens van u.", "uses none of your data now."),
                    "</li>");
  }
  absl::StrAppend(&b, "</ul><p>",
                  w.Pick("Wij nemen geen besluiten over u die alleen op geautomatiseerde verwerking berusten en "
                         "rechtsgevolgen hebben of u anderszins in aanmerkelijke mate treffen (AVG artikel 22).",
                         "We take no decisions about you based solely on automated processing that have legal or "
                         "similarly significant effects on you (GDPR Article 22)."),
                  "</p>");
  // (e), (f)
  absl::StrAppend(
      &b, "<h2>", w.Pick("6. Uw rechten", "6. Your rights"), "</h2><p>",
      w.Pick("U mag uw gegevens laten verbeteren, laten wissen, het gebruik laten beperken, bezwaar maken tegen "
             "gebruik op grond van gerechtvaardigd belang, uw toestemming altijd intrekken, en uw gegevens "
             "meenemen (het bijgevoegde JSON-bestand). Dat kan op Mijn privacy of via ",
             "You may have your data corrected or erased, have its use restricted, object to use on the basis of "
             "legitimate interest, withdraw your consent at any time, and take your data with you (the JSON file). "
             "You can do so at My privacy or through "),
      H(c.controller().email()), ".</p><p>",
      w.Pick("Bent u het niet eens met hoe wij met uw gegevens omgaan? Dan kunt u een klacht indienen bij de "
             "Autoriteit Persoonsgegevens (autoriteitpersoonsgegevens.nl).",
             "If you disagree with how we handle your data, you can complain to the Dutch Data Protection "
             "Authority, the Autoriteit Persoonsgegevens (autoriteitpersoonsgegevens.nl)."),
      "</p><p class=\"muted\">", H(c.controller().name()), ", ", H(c.controller().address()), ". ",
      w.Pick("Privacyverklaring: ", "Privacy statement: "), H(c.controller().policy_url()), "</p></body></html>\n");
  return b;
}

}  // namespace

RightsApi::RightsApi(std::shared_ptr<const consent::Catalog> catalog, rpc::PlatformClient& platform,
                     std::function<absl::Time()> clock)
    : catalog_(std::move(catalog)), platform_(platform), clock_(std::move(clock)) {}

absl::StatusOr<v1::ExportMyDataResponse> RightsApi::ExportMyData(const std::string& caller,
                                                                 const v1::ExportMyDataRequest& request) {
  RETURN_IF_ERROR(catalog_->Authorize(caller, v1::EXERCISE_RIGHTS).status());
  RETURN_IF_ERROR(consent::ValidateCustomerId(request.customer_id()));
  if (!request.language().empty() && request.language() != "nl" && request.language() != "en") {
    return absl::InvalidArgumentError("language: nl or en");
  }
  if (request.acting_party().kind() == v1::ActingParty::KIND_UNSPECIFIED) {
    return absl::InvalidArgumentError("acting_party.kind: required (the customer, or the agent acting for them)");
  }
  const Words w{request.language() != "en"};
  Model m;
  m.customer_id = request.customer_id();
  m.generated_at = clock_();
  auto consent = platform_.GetConsent(m.customer_id);
  if (!consent.ok()) {
    if (absl::IsNotFound(consent.status())) return absl::NotFoundError("customer_id: no such customer");
    return absl::UnavailableError("consent cannot be read right now; nothing was exported");
  }
  m.consent = *std::move(consent);
  m.automated = AutomatedUses(*catalog_, m.consent);

  v1::GetProfileRequest read;
  read.set_profile_id(m.customer_id);
  auto* ctx = read.mutable_context();
  ctx->set_purpose(kDataSubjectAccessPurpose);
  for (const v1::FieldDef& f : catalog_->proto().fields()) ctx->mutable_read_mask()->add_paths(f.name());
  ctx->mutable_acting_party()->set_kind(v1::ActingParty::AUTOMATED_SYSTEM);
  ctx->mutable_acting_party()->set_id("access-request");
  ctx->mutable_justification()->set_code(v1::Justification::CUSTOMER_REQUEST);
  ctx->mutable_justification()->set_reference(w.Pick("inzageverzoek", "access request"));
  ctx->set_include_lineage(true);
  auto profile = platform_.GetProfile(read);
  if (!profile.ok()) {
    if (absl::IsNotFound(profile.status())) return absl::NotFoundError("customer_id: no such customer");
    return absl::UnavailableError("the data cannot be read right now; nothing was exported");
  }
  m.profile = *std::move(profile);

  v1::ListAccessEventsRequest list;
  list.set_customer_id(m.customer_id);
  list.mutable_page()->set_page_size(1000);
  for (int page = 0;; ++page) {
    if (page == kMaxEventPages) {
      m.events_complete = false;
      break;
    }
    auto events = platform_.ListAccessEvents(list);
    if (!events.ok()) return absl::UnavailableError("the access log cannot be read right now; nothing was exported");
    for (const v1::AccessEvent& e : events->events()) {
      ++m.events_read;
      if (e.fields_released_size() == 0) continue;  // nothing received
      // Not recipients: the customer looking at their own data, and auditors reviewing
      // the log (they see field names, never values).
      if (e.purpose() == kDataSubjectAccessPurpose || e.purpose() == kAccessLogReviewPurpose) continue;
      Recipient& r = m.recipients[e.caller()];
      r.caller = e.caller();
      r.def = catalog_->FindCaller(e.caller());
      r.purposes.insert(e.purpose());
      r.fields.insert(e.fields_released().begin(), e.fields_released().end());
      r.kinds.insert(absl::AsciiStrToLower(v1::ActingParty::Kind_Name(e.acting_party().kind())));
      ++r.times;
      r.first = std::min(r.first, FromProtoTime(e.time()));
      r.last = std::max(r.last, FromProtoTime(e.time()));
    }
    if (events->next_page_token().empty()) break;
    list.mutable_page()->set_page_token(events->next_page_token());
  }
  v1::ExportMyDataResponse out;
  out.set_json(RenderJson(*catalog_, m, w));
  out.set_html(RenderHtml(*catalog_, m, w));
  log::Info("data_exported", {{"fields", m.profile.fields_size()},
                              {"recipients", static_cast<int64_t>(m.recipients.size())},
                              {"caller", caller}});
  return out;
}

absl::StatusOr<v1::RestrictProcessingResponse> RightsApi::RestrictProcessing(
    const std::string& caller, const v1::RestrictProcessingRequest& request) {
  RETURN_IF_ERROR(catalog_->Authorize(caller, v1::EXERCISE_RIGHTS).status());
  RETURN_IF_ERROR(consent::ValidateCustomerId(request.customer_id()));
  if (request.acting_party().kind() == v1::ActingParty::KIND_UNSPECIFIED) {
    return absl::InvalidArgumentError("acting_party.kind: required (the customer, or the agent acting for them)");
  }
  if (request.channel() == v1::CHANNEL_UNSPECIFIED) {
    return absl::InvalidArgumentError("channel: required (portal, phone, chat, email or api)");
  }
  if (request.idempotency_key().empty() || request.idempotency_key().size() > 100) {
    return absl::InvalidArgumentError("idempotency_key: required, at most 100 characters");
  }
  v1::UpdateConsentRequest update;
  update.set_customer_id(request.customer_id());
  update.set_idempotency_key(absl::StrCat("restrict:", request.idempotency_key()));
  update.set_channel(request.channel());
  *update.mutable_acting_party() = request.acting_party();
  update.mutable_restriction()->set_restrict(request.restrict());
  *update.mutable_restriction()->mutable_purposes() = request.purposes();
  auto changed = platform_.UpdateConsent(update);
  if (!changed.ok()) {
    const absl::Status& s = changed.status();
    if (absl::IsNotFound(s)) return absl::NotFoundError("customer_id: no such customer");
    if (absl::IsInvalidArgument(s) || absl::IsFailedPrecondition(s)) {
      // The consent service names the request's parts as "restriction.purposes[i]".
      std::string message(s.message());
      if (absl::StartsWith(message, "restriction.")) message = message.substr(12);
      return absl::Status(s.code(), message);
    }
    return absl::UnavailableError("consent cannot be changed right now; nothing was restricted");
  }
  log::Info("processing_restricted", {{"restrict", request.restrict()},
                                      {"purposes", request.purposes_size()},
                                      {"version", changed->version()},
                                      {"caller", caller}});
  v1::RestrictProcessingResponse out;
  out.set_consent_version(changed->version());
  *out.mutable_receipt() = changed->receipt();
  return out;
}

}  // namespace cdp::rights
