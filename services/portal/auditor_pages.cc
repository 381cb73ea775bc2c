// The auditor console: sign-in with an account (Argon2id, optional TOTP), searching the
// access log, one event with its proof, the log's integrity, CSV export and the denied and
// unusual-access reviews. Auditors only read. Every look goes through the audit service
// with the console's certificate and names the auditor's account, so it is logged there.
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/audit/access_log.h"
#include "services/audit/merkle.h"
#include "services/common/log.h"
#include "services/common/proto_time.h"
#include "services/portal/auth.h"
#include "services/portal/page_parts.h"

namespace cdp::portal {
namespace {

constexpr size_t kMaxExportBytes = 64 << 20;
constexpr int kSearchPage = 50;

// The query parameters that make up a search, in the order the form shows them.
const char* const kFilterParams[] = {"caller", "actor", "purpose", "field", "outcome", "customer",
                                     "from",   "to",    "why",     "ref"};

std::string Option(const std::string& value, const std::string& label, const std::string& selected) {
  return absl::StrCat("<option value=\"", HtmlEscape(value), "\"", value == selected ? " selected" : "", ">",
                      HtmlEscape(label), "</option>");
}

std::string Select(const std::string& name, const std::string& label, const std::string& options,
                   const std::string& hint = "") {
  return absl::StrCat("<div><label for=\"", name, "\">", label, "</label>",
                      hint.empty() ? "" : absl::StrCat("<p class=\"hint\" id=\"", name, "-hint\">", hint, "</p>"),
                      "<select id=\"", name, "\" name=\"", name, "\"",
                      hint.empty() ? "" : absl::StrCat(" aria-describedby=\"", name, "-hint\""), ">", options,
                      "</select></div>");
}

std::string TextInput(const std::string& name, const std::string& label, const std::string& value,
                      const std::string& type = "text") {
  return absl::StrCat("<div><label for=\"", name, "\">", label, "</label><input type=\"", type, "\" id=\"", name,
                      "\" name=\"", name, "\" value=\"", HtmlEscape(value), "\"></div>");
}

// The reasons an auditor can give, in words, with the code in brackets.
std::string ReasonOptions(const PortalApp::Visit& v, const std::string& selected) {
  static const char* const kWords[][2] = {
      {"Verzoek van de klant", "The customer's request"}, {"Uitvoeren van een bestelling", "Fulfilling an order"},
      {"Facturatie", "Billing"}, {"Fraudemelding", "Fraud alert"}, {"Wettelijk verzoek of onderzoek", "Legal request or investigation"},
      {"Geplande verwerking", "Scheduled processing"}, {"Verbeteren van de dienstverlening", "Improving the service"}};
  std::string out = Option("", v.T("— kies —", "— choose —"), selected);
  for (int code = v1::Justification::CUSTOMER_REQUEST; code <= v1::Justification::SERVICE_IMPROVEMENT; ++code) {
    const std::string n = absl::AsciiStrToLower(v1::Justification::Code_Name(static_cast<v1::Justification::Code>(code)));
    out += Option(n, absl::StrCat(kWords[code - 1][v.en ? 1 : 0], " (", n, ")"), selected);
  }
  return out;
}

// "2026-11-23" as the start of that day in UTC.
bool ParseDay(const std::string& s, absl::Time* out) {
  absl::CivilDay day;
  if (!absl::ParseCivilTime(s, &day)) return false;
  *out = absl::FromCivil(day, absl::UTCTimeZone());
  return true;
}

// The auditor's search as the audit service takes it, from the page's query parameters:
// the filters, the reason given and the auditor's account, who is named in the logged
// look. InvalidArgument naming the parameter that does not parse.
absl::StatusOr<v1::QueryAccessEventsRequest> SearchRequest(const FormValues& q, const std::string& outcome,
                                                           const std::string& auditor, bool en) {
  v1::QueryAccessEventsRequest r;
  r.set_caller(q.Get("caller"));
  r.set_acting_party_id(q.Get("actor"));
  r.set_purpose(q.Get("purpose"));
  r.set_field(q.Get("field"));
  r.set_outcome(outcome);
  r.set_customer_id(q.Get("customer"));
  absl::Time t;
  if (!q.Get("from").empty()) {
    if (!ParseDay(q.Get("from"), &t)) return absl::InvalidArgumentError("from: a date like 2026-11-23");
    *r.mutable_from() = ToProtoTime(t);
  }
  if (!q.Get("to").empty()) {
    if (!ParseDay(q.Get("to"), &t)) return absl::InvalidArgumentError("to: a date like 2026-11-23");
    *r.mutable_to() = ToProtoTime(t + absl::Hours(24));
  }
  v1::Justification::Code code;
  if (!v1::Justification::Code_Parse(absl::AsciiStrToUpper(q.Get("why")), &code)) {
    return absl::InvalidArgumentError("why: one of the listed reasons for looking");
  }
  r.mutable_justification()->set_code(code);
  r.mutable_justification()->set_reference(q.Get("ref").substr(0, 128));
  r.mutable_acting_party()->set_kind(v1::ActingParty::HUMAN_AGENT);
  r.mutable_acting_party()->set_id("auditor:" + auditor);
  r.set_language(en ? "en" : "nl");
  return r;
}

}  // namespace

HttpResponse PortalApp::AuditorSignInPage(Visit& v, const std::string& error) {
  std::string body = absl::StrCat(
      "<h1>", v.T("Inloggen als controleur", "Sign in as an auditor"), "</h1><p>",
      v.T("Voor de functionaris gegevensbescherming, interne audit en toezichthouders. Wat u bekijkt, wordt "
          "vastgelegd.",
          "For the data protection officer, internal audit and regulators. What you look at is logged."),
      "</p>",
      error.empty() ? "" : absl::StrCat("<p class=\"error\" role=\"alert\" id=\"signin-error\">", HtmlEscape(error), "</p>"),
      Form(v, "/audit/signin",
           absl::StrCat(TextInput("name", v.T("Accountnaam", "Account name"), v.form.Get("name")),
                        "<div><label for=\"password\">", v.T("Wachtwoord", "Password"),
                        "</label><input type=\"password\" id=\"password\" name=\"password\" "
                        "autocomplete=\"current-password\" required></div>",
                        "<div><label for=\"code\">", v.T("Code uit uw app (als u die gebruikt)", "Code from your app (if you use one)"),
                        "</label><input type=\"text\" id=\"code\" name=\"code\" inputmode=\"numeric\" "
                        "autocomplete=\"one-time-code\" pattern=\"[0-9]{6}\"></div>",
                        "<button type=\"submit\">", v.T("Inloggen", "Sign in"), "</button>"),
           "stack"));
  return Html(v, error.empty() ? 200 : 401, v.T("Inloggen als controleur", "Auditor sign-in"), body);
}

HttpResponse PortalApp::AuditorSignIn(Visit& v) {
  const std::string name = v.form.Get("name");
  const std::string password = v.form.Get("password");
  const std::string code = v.form.Get("code");
  const absl::Time now = clock_();
  const std::string refused = v.T("Accountnaam, wachtwoord of code klopt niet.", "Account name, password or code is wrong.");
  if (name.empty() || name.size() > 64 || password.empty() || password.size() > 1024) {
    return AuditorSignInPage(v, refused);
  }
  // Failures count per account from this client, per account from anywhere (a looser
  // limit, so that nobody can lock an auditor out from one place), and per client.
  const std::string peer = PeerKey(v.req.peer);
  const std::string here = absl::StrCat("auditor:", name, "@", peer);
  const std::string account = "auditor:" + name;
  if (per_peer_.Blocked(peer, now) || per_subject_.Blocked(here, now) || per_account_.Blocked(account, now)) {
    log::Warning("sign_in_rate_limited", {{"kind", "auditor"}});
    return AuditorSignInPage(v, v.T("Te veel pogingen. Probeer het over een uur opnieuw.",
                                    "Too many attempts. Try again in an hour."));
  }
  auto auditor = store_.FindAuditor(name);
  if (!auditor.ok()) return ErrorPage(v, auditor.status());
  // The same work whether or not the account exists, so timing does not tell.
  static const std::string kDummy = *HashPassword("not-a-real-password");
  const bool password_ok = VerifyPassword(auditor->has_value() ? (*auditor)->password_argon2id : kDummy, password);
  bool ok = auditor->has_value() && password_ok && !(*auditor)->disabled;
  if (ok && !(*auditor)->totp_secret.empty()) {
    // A code counts once: the step it belongs to must be later than the last one used.
    std::optional<int64_t> step = MatchTotp((*auditor)->totp_secret, code, now);
    if (!step) {
      ok = false;
    } else {
      auto fresh = store_.UseTotpStep(name, *step);
      if (!fresh.ok()) return ErrorPage(v, fresh.status());
      ok = *fresh;
    }
  }
  if (!ok) {
    per_peer_.Count(peer, now);
    per_subject_.Count(here, now);
    per_account_.Count(account, now);
    log::Warning("auditor_sign_in_refused", {});
    return AuditorSignInPage(v, refused);
  }
  HttpResponse r = Redirect("/audit");
  auto session = StartSession("auditor", name, r);
  if (!session.ok()) return ErrorPage(v, session.status());
  log::Info("signed_in", {{"kind", "auditor"}});
  return r;
}

HttpResponse PortalApp::AuditSearch(Visit& v, bool denied_only) {
  auto catalog = Catalog();
  if (!catalog.ok()) return ErrorPage(v, catalog.status());
  const v1::Catalog& c = **catalog;
  const FormValues& q = v.query;
  const std::string outcome = denied_only ? "denied" : q.Get("outcome");
  const std::string base = denied_only ? "/audit/denied" : "/audit";

  std::string callers = Option("", v.T("Alle", "All"), q.Get("caller"));
  for (const v1::CallerDef& k : c.callers()) callers += Option(k.id(), v.Pick(k.title()) + " — " + k.id(), q.Get("caller"));
  std::string purposes = Option("", v.T("Alle", "All"), q.Get("purpose"));
  for (const v1::PurposeDef& p : c.purposes()) purposes += Option(p.name(), v.Pick(p.title()), q.Get("purpose"));
  std::string fields = Option("", v.T("Alle", "All"), q.Get("field"));
  for (const v1::FieldDef& f : c.fields()) fields += Option(f.name(), f.name(), q.Get("field"));
  std::string outcomes = absl::StrCat(Option("", v.T("Alle", "All"), outcome),
                                      Option("released", v.T("Vrijgegeven", "Released"), outcome),
                                      Option("denied", v.T("Geweigerd", "Denied"), outcome));
  const std::string whys = ReasonOptions(v, q.Get("why"));
  std::string form = absl::StrCat(
      "<form method=\"get\" action=\"", base, "\" class=\"card\"><div class=\"filters\">",
      Select("caller", v.T("Aanroepende dienst", "Calling service"), callers),
      TextInput("actor", v.T("Handelende persoon of bot (id)", "Acting person or bot (id)"), q.Get("actor")),
      Select("purpose", v.T("Doel", "Purpose"), purposes), Select("field", v.T("Gegeven", "Field"), fields),
      denied_only ? "" : Select("outcome", v.T("Uitkomst", "Outcome"), outcomes),
      TextInput("customer", v.T("Klant (profiel-id)", "Customer (profile id)"), q.Get("customer")),
      TextInput("from", v.T("Vanaf (datum)", "From (date)"), q.Get("from"), "date"),
      TextInput("to", v.T("Tot (datum)", "Until (date)"), q.Get("to"), "date"),
      Select("why", v.T("Waarom kijkt u? (verplicht)", "Why do you look? (required)"), whys,
             v.T("Uw zoekactie wordt met deze reden vastgelegd.", "Your search is logged with this reason.")),
      TextInput("ref", v.T("Dossier- of zaaknummer", "Case or file number"), q.Get("ref")),
      "</div><button type=\"submit\">", v.T("Zoeken", "Search"), "</button></form>");
  const std::string title = denied_only ? v.T("Geweigerde toegang", "Denied access") : v.T("Toegangslogboek doorzoeken", "Search the access log");
  std::string body = absl::StrCat("<h1>", title, "</h1>", form);
  if (q.Get("why").empty()) {
    if (!q.raw().empty()) {
      absl::StrAppend(&body, "<p class=\"error\" role=\"alert\">",
                      v.T("Kies waarom u kijkt; zonder reden tonen wij niets.", "Choose why you look; without a reason we show nothing."),
                      "</p>");
    }
    return Html(v, 200, title, body);
  }
  auto search = SearchRequest(q, outcome, v.session->subject, v.en);
  if (!search.ok()) return ErrorPage(v, search.status());
  v1::QueryAccessEventsRequest& r = *search;
  r.mutable_page()->set_page_size(kSearchPage);
  r.mutable_page()->set_page_token(q.Get("page"));
  auto events = platform_.QueryAccessEvents(r);
  if (!events.ok()) return ErrorPage(v, events.status());

  std::string keep;  // the filters, for links from the results
  for (const char* p : kFilterParams) {
    const std::string value = std::string(p) == "outcome" ? outcome : q.Get(p);
    if (!value.empty()) absl::StrAppend(&keep, "&amp;", p, "=", UrlEncode(value));
  }
  std::string rows;
  for (const v1::AccessEvent& e : events->events()) {
    std::vector<std::string> withheld;
    for (const auto& [f, why] : e.fields_withheld()) withheld.push_back(absl::StrCat(f, " (", why, ")"));
    std::sort(withheld.begin(), withheld.end());
    absl::StrAppend(&rows, "<tr><td><a href=\"/audit/event?position=", e.position(), keep, "\">", e.position(),
                    "</a></td><td>", DateTime(FromProtoTime(e.time()), v.en), "</td><td class=\"mono\">",
                    HtmlEscape(e.caller()), "<br>", HtmlEscape(absl::AsciiStrToLower(v1::ActingParty::Kind_Name(e.acting_party().kind()))), ": ",
                    HtmlEscape(e.acting_party().id()), "</td><td>", HtmlEscape(e.purpose()), "</td><td>",
                    HtmlEscape(absl::StrJoin(e.fields_released(), ", ")), "</td><td>",
                    HtmlEscape(absl::StrJoin(withheld, ", ")), "</td></tr>");
  }
  if (rows.empty()) {
    absl::StrAppend(&body, "<p role=\"status\">", v.T("Niets gevonden.", "Nothing found."), "</p>");
  } else {
    absl::StrAppend(&body, "<div class=\"table-scroll\"><table><caption class=\"sr\">", title, "</caption><thead><tr><th scope=\"col\">#</th><th scope=\"col\">",
                    v.T("Tijd", "Time"), "</th><th scope=\"col\">", v.T("Wie", "Who"), "</th><th scope=\"col\">",
                    v.T("Doel", "Purpose"), "</th><th scope=\"col\">", v.T("Vrijgegeven", "Released"),
                    "</th><th scope=\"col\">", v.T("Niet getoond", "Withheld"), "</th></tr></thead><tbody>", rows,
                    "</tbody></table></div>");
  }
  std::string export_link = absl::StrCat("/audit/export.csv?", keep.empty() ? "" : keep.substr(5));
  absl::StrAppend(&body, "<nav class=\"pager\" aria-label=\"", v.T("Pagina's en export", "Pages and export"), "\">");
  if (!events->next_page_token().empty()) {
    absl::StrAppend(&body, "<a href=\"", base, "?page=", UrlEncode(events->next_page_token()), keep, "\">",
                    v.T("Oudere", "Older"), "</a>");
  }
  absl::StrAppend(&body, "<a href=\"", export_link, "\">", v.T("Exporteer als CSV", "Export as CSV"), "</a></nav>");
  return Html(v, 200, title, body);
}

HttpResponse PortalApp::AuditEvent(Visit& v) {
  int64_t position = -1;
  if (!absl::SimpleAtoi(v.query.Get("position"), &position) || position < 0 ||
      position == std::numeric_limits<int64_t>::max()) {
    return ErrorPage(v, absl::InvalidArgumentError("position: a number from 0"));
  }
  // The search's filters came along; the event must match them too.
  auto search = SearchRequest(v.query, v.query.Get("outcome"), v.session->subject, v.en);
  if (!search.ok()) return ErrorPage(v, search.status());
  v1::QueryAccessEventsRequest& r = *search;
  r.set_position(position);
  auto events = platform_.QueryAccessEvents(r);
  if (!events.ok()) return ErrorPage(v, events.status());
  if (events->events_size() == 0) return ErrorPage(v, absl::NotFoundError("no such event"));
  const v1::AccessEvent& e = events->events(0);
  v1::SignedTreeHead head;
  bool head_ok = false;
  std::map<int64_t, std::string> checked = CheckInLog(*events, &head, &head_ok);
  const std::string& outcome = checked[position];
  std::string proof;
  if (!head_ok) {
    proof = absl::StrCat("<p class=\"proof bad\">", v.T("De handtekening van het logboek klopt niet met de vertrouwde sleutel.",
                                                       "The log's signature does not match the trusted key."), "</p>");
  } else if (outcome == "verified") {
    proof = absl::StrCat("<p class=\"proof ok\">&#10003; ",
                         v.T("Geverifieerd: dit event staat, precies zoals hier getoond, in de ondertekende boom.",
                             "Verified: this event is in the signed tree exactly as shown here."),
                         "</p>");
  } else if (outcome == "pending") {
    proof = absl::StrCat("<p class=\"proof\">", v.T("Nog niet ondertekend; laad over een seconde opnieuw.",
                                                    "Not signed yet; reload in a second."), "</p>");
  } else {
    proof = absl::StrCat("<p class=\"proof bad\">&#10007; ",
                         v.T("NIET geverifieerd: dit event past niet in de ondertekende boom.",
                             "NOT verified: this event does not fit the signed tree."),
                         "</p>");
  }
  std::vector<std::string> withheld;
  for (const auto& [f, why] : e.fields_withheld()) withheld.push_back(absl::StrCat(f, " (", why, ")"));
  std::sort(withheld.begin(), withheld.end());
  auto row = [](const std::string& k, const std::string& val) {
    return absl::StrCat("<dt>", k, "</dt><dd class=\"mono\">", HtmlEscape(val), "</dd>");
  };
  std::string body = absl::StrCat(
      "<h1>", v.T("Event ", "Event "), position, "</h1><p><strong>", v.T("Zoals de klant het ziet: ", "As the customer sees it: "),
      "</strong>", HtmlEscape(e.explanation()), "</p>", proof,
      "<dl class=\"data card\">", row(v.T("Tijd", "Time"), absl::FormatTime(absl::RFC3339_full, FromProtoTime(e.time()), absl::UTCTimeZone())),
      row("event_id", e.event_id()), row(v.T("Aanroeper", "Caller"), e.caller()),
      row(v.T("Handelende partij", "Acting party"),
          absl::StrCat(absl::AsciiStrToLower(v1::ActingParty::Kind_Name(e.acting_party().kind())), ": ", e.acting_party().id())),
      row(v.T("Klant (pseudoniem)", "Customer (pseudonym)"), e.subject_pseudonym()), row(v.T("Doel", "Purpose"), e.purpose()),
      row(v.T("Grondslag", "Legal basis"), e.legal_basis()),
      row(v.T("Rechtvaardiging", "Justification"),
          absl::StrCat(absl::AsciiStrToLower(v1::Justification::Code_Name(e.justification().code())), " ", e.justification().reference())),
      row(v.T("Vrijgegeven", "Released"), absl::StrJoin(e.fields_released(), ", ")),
      row(v.T("Niet getoond", "Withheld"), absl::StrJoin(withheld, ", ")),
      row(v.T("Toestemmingsversie", "Consent version"), absl::StrCat(e.consent_version())),
      row("request_id", e.request_id()), row(v.T("Vastgelegd door", "Recorded by"), e.recorded_by()), "</dl>");
  if (head_ok) {
    absl::StrAppend(&body, "<h2>", v.T("Bewijs", "Proof"), "</h2><dl class=\"data card\">",
                    row(v.T("Bladhash (hier berekend)", "Leaf hash (computed here)"),
                        audit::HashHex(audit::LeafHash(audit::EntryOf(e)))),
                    row(v.T("Boomgrootte", "Tree size"), absl::StrCat(head.tree_size())),
                    row(v.T("Wortel", "Root"), audit::HashHex(audit::HashFromBytes(head.root_hash()))),
                    row(v.T("Ondertekend", "Signed"), absl::FormatTime(absl::RFC3339_full, FromProtoTime(head.timestamp()), absl::UTCTimeZone())),
                    row(v.T("Sleutel", "Key"), head.key_id()), "</dl><p class=\"small\">",
                    v.T("Zelf nagaan zonder deze console: ", "Check it yourself without this console: "),
                    "<code>cdpctl log prove ", position, " --public_key=log-signing.pub</code></p>");
  }
  return Html(v, 200, absl::StrCat("Event ", position), body);
}

HttpResponse PortalApp::AuditIntegrity(Visit& v) {
  v1::ListAccessEventsResponse none;
  v1::SignedTreeHead head;
  bool head_ok = false;
  CheckInLog(none, &head, &head_ok);
  auto last = store_.LatestVerification();
  if (!last.ok()) return ErrorPage(v, last.status());
  std::string body = absl::StrCat("<h1>", v.T("Integriteit van het logboek", "Integrity of the log"), "</h1>");
  if (v.query.Get("verified") == "1") {
    absl::StrAppend(&body, "<p class=\"notice\" role=\"status\">", v.T("Verificatie uitgevoerd.", "Verification done."), "</p>");
  }
  if (head.tree_size() > 0 || head_ok) {
    absl::StrAppend(&body, "<section class=\"card\"><h2>", v.T("Laatste ondertekende top", "Latest signed tree head"), "</h2>",
                    head_ok ? absl::StrCat("<p class=\"proof ok\">&#10003; ", v.T("Handtekening klopt met de vertrouwde sleutel.", "Signature matches the trusted key."), "</p>")
                            : absl::StrCat("<p class=\"proof bad\">&#10007; ", v.T("Handtekening klopt NIET met de vertrouwde sleutel.", "Signature does NOT match the trusted key."), "</p>"),
                    "<dl class=\"data\"><dt>", v.T("Aantal events", "Events"), "</dt><dd>", head.tree_size(),
                    "</dd><dt>", v.T("Wortel", "Root"), "</dt><dd class=\"mono\">",
                    audit::HashHex(audit::HashFromBytes(head.root_hash())), "</dd><dt>", v.T("Ondertekend", "Signed"),
                    "</dt><dd>", DateTime(FromProtoTime(head.timestamp()), v.en), "</dd><dt>", v.T("Sleutel", "Key"),
                    "</dt><dd class=\"mono\">", HtmlEscape(head.key_id()), "</dd></dl></section>");
  } else {
    absl::StrAppend(&body, "<p class=\"warning\">", v.T("Het logboek is nu niet bereikbaar.", "The log cannot be reached now."), "</p>");
  }
  absl::StrAppend(&body, "<section class=\"card\"><h2>", v.T("Laatste volledige verificatie", "Latest full verification"), "</h2>");
  if (last->has_value()) {
    const Verification& l = **last;
    absl::StrAppend(&body, l.ok ? "<p class=\"proof ok\">&#10003; " : "<p class=\"proof bad\">&#10007; ",
                    l.ok ? v.T("In orde", "Sound") : v.T("FOUT GEVONDEN", "PROBLEM FOUND"), "</p><dl class=\"data\"><dt>",
                    v.T("Wanneer", "When"), "</dt><dd>", DateTime(l.verified_at, v.en), "</dd><dt>", v.T("Door", "By"),
                    "</dt><dd>", HtmlEscape(l.auditor), "</dd><dt>", v.T("Events nagerekend", "Events checked"), "</dt><dd>",
                    l.events_checked, "</dd>",
                    l.ok ? "" : absl::StrCat("<dt>", v.T("Eerste foute positie", "First bad position"), "</dt><dd>",
                                             l.first_bad_position, "</dd><dt>", v.T("Probleem", "Problem"), "</dt><dd>",
                                             HtmlEscape(l.problem), "</dd>"),
                    "</dl>");
  } else {
    absl::StrAppend(&body, "<p>", v.T("Nog niet uitgevoerd vanuit deze console.", "Not yet run from this console."), "</p>");
  }
  absl::StrAppend(&body,
                  Form(v, "/audit/verify",
                       absl::StrCat("<p class=\"small\">",
                                    v.T("Rekent de hele boom opnieuw uit uit de opgeslagen events en vergelijkt hem met de "
                                        "ondertekende toppen. Bij een groot logboek duurt dit even.",
                                        "Recomputes the whole tree from the stored events and compares it with the signed "
                                        "heads. For a large log this takes a while."),
                                    "</p><button type=\"submit\">", v.T("Nu verifiëren", "Verify now"), "</button>")),
                  "</section>");
  return Html(v, 200, v.T("Integriteit", "Integrity"), body);
}

HttpResponse PortalApp::AuditVerify(Visit& v) {
  auto result = platform_.VerifyLog();
  if (!result.ok()) return ErrorPage(v, result.status());
  Verification record;
  record.auditor = v.session->subject;
  record.verified_at = clock_();
  record.ok = result->ok();
  record.events_checked = result->events_checked();
  record.first_bad_position = result->first_bad_position();
  record.problem = result->problem();
  if (absl::Status s = store_.AddVerification(record); !s.ok()) return ErrorPage(v, s);
  log::Info("log_verification_run", {{"ok", result->ok()}, {"events", result->events_checked()}});
  return Redirect("/audit/integrity?verified=1");
}

HttpResponse PortalApp::AuditExport(Visit& v) {
  auto search = SearchRequest(v.query, v.query.Get("outcome"), v.session->subject, v.en);
  if (!search.ok()) return ErrorPage(v, search.status());
  v1::QueryAccessEventsRequest& r = *search;
  r.set_format("csv");
  std::string csv;
  bool too_big = false;
  absl::Status s = platform_.ExportAccessEvents(r, [&](const std::string& chunk) {
    if (csv.size() + chunk.size() > kMaxExportBytes) {
      too_big = true;
      return false;
    }
    csv += chunk;
    return true;
  });
  if (!s.ok()) return ErrorPage(v, s);
  if (too_big) {
    return ErrorPage(v, absl::InvalidArgumentError("the export is over 64 MB; narrow the search (dates, caller) "
                                                   "or use cdpctl log export"));
  }
  HttpResponse out;
  out.content_type = "text/csv; charset=utf-8";
  out.headers.emplace_back("Content-Disposition", "attachment; filename=\"access-events.csv\"");
  out.headers.emplace_back("Cache-Control", "no-store");
  out.headers.emplace_back("X-Content-Type-Options", "nosniff");
  out.body = std::move(csv);
  return out;
}

HttpResponse PortalApp::AuditUnusual(Visit& v) {
  const std::string whys = ReasonOptions(v, v.query.Get("why"));
  std::string body = absl::StrCat(
      "<h1>", v.T("Ongebruikelijke toegang", "Unusual access"), "</h1><p>",
      v.T("Diensten die in het afgelopen uur veel meer verschillende klanten bekeken dan ze gewoonlijk doen.",
          "Services that looked at far more distinct customers in the last hour than they usually do."),
      "</p><form method=\"get\" action=\"/audit/unusual\" class=\"card\">",
      Select("why", v.T("Waarom kijkt u? (verplicht)", "Why do you look? (required)"), whys),
      TextInput("ref", v.T("Dossier- of zaaknummer", "Case or file number"), v.query.Get("ref")),
      "<button type=\"submit\">", v.T("Toon rapport", "Show report"), "</button></form>");
  v1::Justification::Code code;
  if (!v1::Justification::Code_Parse(absl::AsciiStrToUpper(v.query.Get("why")), &code)) {
    return Html(v, 200, v.T("Ongebruikelijke toegang", "Unusual access"), body);
  }
  v1::UnusualAccessRequest r;
  r.mutable_justification()->set_code(code);
  r.mutable_justification()->set_reference(v.query.Get("ref").substr(0, 128));
  r.mutable_acting_party()->set_kind(v1::ActingParty::HUMAN_AGENT);
  r.mutable_acting_party()->set_id("auditor:" + v.session->subject);
  auto report = platform_.UnusualAccess(r);
  if (!report.ok()) return ErrorPage(v, report.status());
  if (report->callers_size() == 0) {
    absl::StrAppend(&body, "<p class=\"notice\" role=\"status\">",
                    v.T("Niets ongebruikelijks gevonden.", "Nothing unusual found."), "</p>");
  } else {
    std::string rows;
    for (const auto& c : report->callers()) {
      absl::StrAppend(&rows, "<tr><td class=\"mono\">", HtmlEscape(c.caller()), "</td><td>", c.customers(),
                      "</td><td>", absl::StrFormat("%.1f", c.usual()), "</td></tr>");
    }
    absl::StrAppend(&body, "<div class=\"table-scroll\"><table><thead><tr><th scope=\"col\">", v.T("Dienst", "Service"),
                    "</th><th scope=\"col\">", v.T("Klanten dit uur", "Customers this hour"), "</th><th scope=\"col\">",
                    v.T("Gewoonlijk per uur", "Usually per hour"), "</th></tr></thead><tbody>", rows,
                    "</tbody></table></div>");
  }
  return Html(v, 200, v.T("Ongebruikelijke toegang", "Unusual access"), body);
}

}  // namespace cdp::portal
