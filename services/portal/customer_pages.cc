// The customer's pages: overview, my data, my choices, who looked, download, erase. The
// customer is always the session's subject; no page takes a customer id from the request
// except the JSON API, which refuses any id but the session's.
#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "services/audit/access_log.h"
#include "services/audit/merkle.h"
#include "services/common/log.h"
#include "services/common/proto_time.h"
#include "services/portal/auth.h"
#include "services/portal/page_parts.h"

namespace cdp::portal {
namespace {

constexpr int kTimelinePage = 20;

bool Switchable(v1::LegalBasis b) { return b == v1::CONSENT || b == v1::LEGITIMATE_INTEREST; }

// The customer's own golden record, every field, with lineage; logged as their own look.
absl::StatusOr<v1::ProfileView> ReadOwnData(PlatformClient& platform, const v1::Catalog& catalog,
                                            const std::string& customer_id, bool en) {
  v1::GetProfileRequest r;
  r.set_profile_id(customer_id);
  auto* ctx = r.mutable_context();
  ctx->set_purpose(kSelfServicePurpose);
  for (const v1::FieldDef& f : catalog.fields()) ctx->mutable_read_mask()->add_paths(f.name());
  ctx->mutable_acting_party()->set_kind(v1::ActingParty::DATA_SUBJECT);
  // Never the customer's id: the log names customers only by pseudonym.
  ctx->mutable_acting_party()->set_id("self");
  ctx->mutable_justification()->set_code(v1::Justification::CUSTOMER_REQUEST);
  ctx->mutable_justification()->set_reference(en ? "My data" : "Mijn gegevens");
  ctx->set_include_lineage(true);
  return platform.GetProfile(r);
}

}  // namespace

HttpResponse PortalApp::Overview(Visit& v) {
  const std::string cards = absl::StrCat(
      "<ul class=\"cards\">",
      "<li><a href=\"/my/data\"><strong>", v.T("Mijn gegevens", "My data"), "</strong>",
      v.T("Alles wat wij van u weten, en waar het vandaan komt.", "Everything we know about you, and where it came from."),
      "</a></li>",
      "<li><a href=\"/my/choices\"><strong>", v.T("Mijn keuzes", "My choices"), "</strong>",
      v.T("Bepaal waarvoor wij uw gegevens mogen gebruiken.", "Decide what we may use your data for."), "</a></li>",
      "<li><a href=\"/my/access\"><strong>", v.T("Wie keek er?", "Who looked?"), "</strong>",
      v.T("Wie uw gegevens bekeek, wanneer en waarom.", "Who looked at your data, when and why."), "</a></li>",
      "<li><a href=\"/my/download\"><strong>", v.T("Downloaden", "Download"), "</strong>",
      v.T("Uw gegevens als pagina of als bestand.", "Your data as a page or as a file."), "</a></li>",
      "<li><a href=\"/my/erase\"><strong>", v.T("Wissen of beperken", "Erase or restrict"), "</strong>",
      v.T("Laat uw gegevens wissen of het gebruik beperken.", "Have your data erased or its use restricted."),
      "</a></li></ul>");
  return Html(v, 200, v.T("Overzicht", "Overview"),
              absl::StrCat("<h1>", v.T("Mijn privacy", "My privacy"), "</h1><p>",
                           v.T("Wat wilt u doen?", "What would you like to do?"), "</p>", cards));
}

HttpResponse PortalApp::MyData(Visit& v, bool for_download) {
  auto catalog = Catalog();
  if (!catalog.ok()) return ErrorPage(v, catalog.status());
  const v1::Catalog& c = **catalog;
  auto view = ReadOwnData(platform_, c, v.session->subject, v.en);
  if (!view.ok()) return ErrorPage(v, view.status());

  std::map<int, std::vector<const v1::FieldDef*>> by_category;
  for (const v1::FieldDef& f : c.fields()) by_category[f.category()].push_back(&f);
  std::string body;
  std::vector<std::string> unknown;
  for (const auto& [category, fields] : by_category) {
    std::string items;
    for (const v1::FieldDef* f : fields) {
      auto value = view->fields().find(f->name());
      if (value == view->fields().end()) {
        unknown.push_back(v.Pick(f->title()));
        continue;
      }
      std::string source;
      if (auto l = view->lineage().find(f->name()); l != view->lineage().end()) {
        source = absl::StrCat("<span class=\"src\">", v.T("Bron: ", "Source: "),
                              HtmlEscape(SourceTitle(l->second.source_system(), v.en)), ", ",
                              DateTime(FromProtoTime(l->second.changed_at()), v.en),
                              for_download ? absl::StrCat(" · ", v.T("record ", "record "),
                                                          HtmlEscape(l->second.record_id()))
                                           : "",
                              "</span>");
      }
      absl::StrAppend(&items, "<dt>", HtmlEscape(Capitalised(v.Pick(f->title()))), "</dt><dd>",
                      HtmlEscape(value->second), source, "</dd>");
    }
    if (items.empty()) continue;
    absl::StrAppend(&body, "<section class=\"card\"><h2>",
                    HtmlEscape(CategoryTitle(static_cast<v1::Category>(category), v.en)), "</h2><dl class=\"data\">",
                    items, "</dl></section>");
  }
  if (body.empty()) {
    body = absl::StrCat("<p>", v.T("Wij hebben geen gegevens van u.", "We hold no data about you."), "</p>");
  }
  if (!unknown.empty()) {
    absl::StrAppend(&body, "<p class=\"muted\">", v.T("Hiervan hebben wij niets: ", "We hold nothing of: "),
                    HtmlEscape(absl::StrJoin(unknown, ", ")), ".</p>");
  }
  const std::string json_link =
      absl::StrCat("/api/customers/", UrlEncode(v.session->subject), "/data.json");
  const std::string report_link =
      absl::StrCat("/api/customers/", UrlEncode(v.session->subject), "/report.html");
  std::string intro;
  if (for_download) {
    intro = absl::StrCat(
        "<h1>", v.T("Uw gegevens downloaden", "Download your data"), "</h1><p>",
        v.T("Hieronder staan al uw gegevens, met waar ze vandaan komen. U kunt deze pagina afdrukken of bewaren. "
            "Wilt u ze meenemen naar een andere dienst? Download dan het bestand.",
            "Below is all your data, with where it came from. You can print or save this page. Want to take it "
            "to another service? Download the file."),
        "</p><p><a class=\"button\" href=\"", report_link, "\" download>",
        v.T("Volledig overzicht downloaden", "Download the full overview"), "</a> <a class=\"button secondary\" href=\"",
        json_link, "\" download>", v.T("Bestand om mee te nemen (JSON)", "File to take with you (JSON)"),
        "</a></p><p class=\"small\">",
        v.T("Het volledige overzicht zegt ook waarvoor wij uw gegevens gebruiken, op welke grond, wie ze kreeg, hoe "
            "lang wij ze bewaren en welke rechten u hebt.",
            "The full overview also says what we use your data for, on what basis, who received it, how long we "
            "keep it and which rights you have."),
        "</p>");
  } else {
    intro = absl::StrCat("<h1>", v.T("Mijn gegevens", "My data"), "</h1><p>",
                         v.T("Dit is alles wat wij van u weten, per onderwerp, met waar het vandaan komt.",
                             "This is everything we know about you, by subject, with where it came from."),
                         "</p>");
  }
  return Html(v, 200, for_download ? v.T("Downloaden", "Download") : v.T("Mijn gegevens", "My data"),
              intro + body);
}

HttpResponse PortalApp::Choices(Visit& v) {
  auto catalog = Catalog();
  if (!catalog.ok()) return ErrorPage(v, catalog.status());
  auto state = platform_.GetConsent(v.session->subject);
  if (!state.ok()) return ErrorPage(v, state.status());
  const v1::Catalog& c = **catalog;
  // cell[purpose][field]
  std::map<std::string, std::map<std::string, const v1::ConsentCell*>> cells;
  for (const v1::ConsentCell& cell : state->cells()) cells[cell.purpose()][cell.field()] = &cell;
  std::map<v1::LegalBasis, const v1::LegalBasisDef*> bases;
  for (const v1::LegalBasisDef& b : c.legal_bases()) bases[b.basis()] = &b;

  std::string switchable, locked;
  for (const v1::PurposeDef& p : c.purposes()) {
    std::string basis_text = LegalBasisWord(p.legal_basis(), v.en);
    if (auto b = bases.find(p.legal_basis()); b != bases.end() && !v.Pick(b->second->description()).empty()) {
      basis_text = v.Pick(b->second->description());
    }
    const std::string head =
        absl::StrCat("<h3>", HtmlEscape(v.Pick(p.title())), "</h3><p>", HtmlEscape(v.Pick(p.description())),
                     "</p><p class=\"small\"><span class=\"badge\">", v.T("Grondslag", "Legal basis"), ": ",
                     HtmlEscape(LegalBasisWord(p.legal_basis(), v.en)), "</span> ", HtmlEscape(basis_text), "</p>");
    std::map<int, std::vector<const v1::FieldDef*>> in_scope;
    for (const v1::FieldDef& f : c.fields()) {
      auto cell = cells[p.name()].find(f.name());
      if (cell == cells[p.name()].end() || cell->second->rule() == "outside_purpose_scope") continue;
      in_scope[f.category()].push_back(&f);
    }
    if (in_scope.empty()) continue;
    if (!Switchable(p.legal_basis())) {
      std::vector<std::string> names;
      for (const auto& [cat, fields] : in_scope) {
        for (const v1::FieldDef* f : fields) names.push_back(v.Pick(f->title()));
      }
      absl::StrAppend(&locked, "<section class=\"card locked\">", head, "<p><strong>",
                      v.T("Kan niet worden uitgezet.", "Cannot be switched off."), "</strong> ",
                      HtmlEscape(v.Pick(p.locked_reason())), "</p><details><summary>",
                      v.T("Welke gegevens?", "Which data?"), "</summary><div><p>",
                      HtmlEscape(Capitalised(absl::StrJoin(names, ", "))), ".</p></div></details></section>");
      continue;
    }
    std::string groups;
    for (const auto& [cat, fields] : in_scope) {
      int allowed = 0;
      std::string boxes;
      for (const v1::FieldDef* f : fields) {
        const bool allow = cells[p.name()][f->name()]->allow();
        allowed += allow;
        const std::string id = HtmlEscape(absl::StrCat("c-", p.name(), "-", f->name()));
        absl::StrAppend(&boxes, "<label class=\"check\" for=\"", id, "\"><input type=\"checkbox\" id=\"", id,
                        "\" name=\"allow\" value=\"", HtmlEscape(p.name()), "/", HtmlEscape(f->name()), "\"",
                        allow ? " checked" : "", "> ", HtmlEscape(Capitalised(v.Pick(f->title()))), "</label>");
      }
      absl::StrAppend(&groups, "<details><summary>", HtmlEscape(CategoryTitle(static_cast<v1::Category>(cat), v.en)),
                      " — ", allowed, v.T(" van ", " of "), fields.size(), v.T(" toegestaan", " allowed"),
                      "</summary><div>", boxes, "</div></details>");
    }
    absl::StrAppend(&switchable, "<section class=\"card\"><fieldset class=\"plain\"><legend class=\"sr\">",
                    HtmlEscape(v.Pick(p.title())), "</legend>", head, groups, "</fieldset></section>");
  }
  std::string notice;
  if (state->restriction().all()) {
    notice = absl::StrCat("<p class=\"warning\">",
                          v.T("U heeft het gebruik van uw gegevens laten beperken: zolang dat zo is, gebruiken wij ze "
                              "alleen voor wat de wet vraagt, wat u hieronder ook kiest. ",
                              "You had the use of your data restricted: while it is, we use it only for what the law "
                              "requires, whatever you choose below. "),
                          "<a href=\"/my/erase\">", v.T("Beperking bekijken", "See the restriction"), "</a></p>");
  }
  if (v.query.Get("saved") == "1") {
    notice = absl::StrCat("<p class=\"notice\" role=\"status\">", v.T("Uw keuzes zijn opgeslagen.", "Your choices were saved."),
                          "</p>");
  }
  const std::string form = Form(
      v, "/my/choices",
      absl::StrCat("<input type=\"hidden\" name=\"version\" value=\"", state->version(),
                   "\"><input type=\"hidden\" name=\"key\" value=\"", RandomToken(18), "\">", switchable,
                   "<button type=\"submit\">", v.T("Keuzes opslaan", "Save my choices"), "</button>"));
  return Html(v, 200, v.T("Mijn keuzes", "My choices"),
              absl::StrCat(notice, "<h1>", v.T("Mijn keuzes", "My choices"), "</h1><p>",
                           v.T("Per doel ziet u welke gegevens wij ervoor mogen gebruiken. Open een onderwerp om "
                               "per gegeven te kiezen, en sla daarna op.",
                               "For each purpose you see which data we may use for it. Open a subject to choose "
                               "per item, then save."),
                           "</p><h2>", v.T("Dit bepaalt u zelf", "You decide"), "</h2>", form, "<h2>",
                           v.T("Dit is nodig of wettelijk verplicht", "Needed or required by law"), "</h2>", locked));
}

HttpResponse PortalApp::SaveChoices(Visit& v) {
  auto catalog = Catalog();
  if (!catalog.ok()) return ErrorPage(v, catalog.status());
  auto state = platform_.GetConsent(v.session->subject);
  if (!state.ok()) return ErrorPage(v, state.status());
  const v1::Catalog& c = **catalog;
  std::set<std::string> wanted(v.form.All("allow").begin(), v.form.All("allow").end());
  std::map<std::string, v1::LegalBasis> basis;
  for (const v1::PurposeDef& p : c.purposes()) basis[p.name()] = p.legal_basis();

  v1::UpdateConsentRequest update;
  std::vector<std::string> changes;
  for (const v1::ConsentCell& cell : state->cells()) {
    if (cell.rule() == "outside_purpose_scope" || !Switchable(basis[cell.purpose()])) continue;
    const bool want = wanted.count(absl::StrCat(cell.purpose(), "/", cell.field())) > 0;
    if (want == cell.allow()) continue;
    v1::ConsentChoice* choice = update.add_choices();
    choice->set_field(cell.field());
    choice->set_purpose(cell.purpose());
    choice->set_allow(want);
    std::string purpose_title = cell.purpose();
    for (const v1::PurposeDef& p : c.purposes()) {
      if (p.name() == cell.purpose()) purpose_title = v.Pick(p.title());
    }
    changes.push_back(absl::StrCat("<li>", HtmlEscape(Capitalised(FieldTitle(c, cell.field(), v.en))), ": ",
                                   want ? v.T("<strong>wel</strong> voor ", "<strong>allowed</strong> for ")
                                        : v.T("<strong>niet</strong> voor ", "<strong>not allowed</strong> for "),
                                   HtmlEscape(purpose_title), "</li>"));
  }
  if (update.choices_size() == 0) {
    return Html(v, 200, v.T("Niets veranderd", "Nothing changed"),
                absl::StrCat("<h1>", v.T("Er is niets veranderd", "Nothing changed"), "</h1><p>",
                             v.T("Uw keuzes waren al zo.", "Your choices were already like this."),
                             "</p><p><a href=\"/my/choices\">", v.T("Terug naar Mijn keuzes", "Back to My choices"),
                             "</a></p>"));
  }
  int64_t expected = 0;
  if (!absl::SimpleAtoi(v.form.Get("version"), &expected) || expected < 0 || v.form.Get("key").empty()) {
    return ErrorPage(v, absl::InvalidArgumentError("the form is incomplete; reload the page and choose again"));
  }
  update.set_customer_id(v.session->subject);
  update.set_idempotency_key(absl::StrCat("portal-", v.form.Get("key").substr(0, 64)));
  update.set_channel(v1::PORTAL);
  update.mutable_acting_party()->set_kind(v1::ActingParty::DATA_SUBJECT);
  update.mutable_acting_party()->set_id("self");
  update.set_expected_version(expected);
  update.set_language(v.en ? "en" : "nl");
  auto saved = platform_.UpdateConsent(update);
  if (!saved.ok()) {
    if (absl::IsAborted(saved.status())) {
      return Html(v, 409, v.T("Intussen gewijzigd", "Changed meanwhile"),
                  absl::StrCat("<h1>", v.T("Uw keuzes zijn intussen gewijzigd", "Your choices changed meanwhile"),
                               "</h1><p>",
                               v.T("Terwijl u keek, is er iets veranderd (bijvoorbeeld via de klantenservice). "
                                   "Er is niets opgeslagen. Bekijk uw keuzes opnieuw.",
                                   "Something changed while you were looking (for example through customer "
                                   "service). Nothing was saved. Please review your choices again."),
                               "</p><p><a class=\"button\" href=\"/my/choices\">",
                               v.T("Opnieuw bekijken", "Review again"), "</a></p>"));
    }
    return ErrorPage(v, saved.status());
  }
  log::Info("consent_saved", {{"choices", update.choices_size()}, {"version", saved->version()}});
  const std::string receipt = absl::StrCat("/api/customers/", UrlEncode(v.session->subject), "/receipts/",
                                           UrlEncode(saved->receipt().receipt_id()), ".jws");
  return Html(v, 200, v.T("Opgeslagen", "Saved"),
              absl::StrCat("<p class=\"notice\" role=\"status\">", v.T("Uw keuzes zijn opgeslagen.", "Your choices were saved."),
                           "</p><h1>", v.T("Dit is veranderd", "This changed"), "</h1><ul>", absl::StrJoin(changes, ""),
                           "</ul><p>",
                           v.T("Het gaat direct in: vanaf nu krijgen onze systemen deze gegevens voor dit doel ",
                               "It takes effect at once: from now on our systems are "),
                           v.T("wel of niet te zien zoals u koos.", "shown this data for this purpose or not, as you chose."),
                           "</p><p>",
                           v.T("U krijgt een ondertekend bewijs van deze wijziging (een toestemmingsbewijs). "
                               "Bewaar het als u wilt kunnen aantonen wat u koos.",
                               "You get a signed proof of this change (a consent receipt). Keep it if you want to "
                               "be able to show what you chose."),
                           "</p><p><a class=\"button\" href=\"", receipt, "\" download>",
                           v.T("Bewijs downloaden", "Download the receipt"),
                           "</a></p><p><a href=\"/my/choices\">", v.T("Terug naar Mijn keuzes", "Back to My choices"),
                           "</a></p>"));
}

std::map<int64_t, std::string> PortalApp::CheckInLog(const v1::ListAccessEventsResponse& events,
                                                     v1::SignedTreeHead* head, bool* head_ok) {
  std::map<int64_t, std::string> out;
  *head_ok = false;
  auto sth = platform_.GetSignedTreeHead();
  if (!sth.ok()) return out;
  *head = *sth;
  // The head counts only if it is signed by the key we were given, not the one it came with.
  const audit::Hash root = audit::HashFromBytes(sth->root_hash());
  *head_ok = audit::TreeHeadSigned(sth->signature(), sth->tree_size(), root, FromProtoTime(sth->timestamp()),
                                   options_.log_public_key_pem);
  if (!*head_ok) return out;
  for (const v1::AccessEvent& e : events.events()) {
    if (e.position() >= sth->tree_size()) {
      out[e.position()] = "pending";
      continue;
    }
    auto proof = platform_.GetInclusionProof(e.position(), sth->tree_size());
    if (!proof.ok()) {
      out[e.position()] = "unknown";
      continue;
    }
    std::vector<audit::Hash> path;
    for (const std::string& h : proof->hashes()) path.push_back(audit::HashFromBytes(h));
    // The event as shown here, hashed here: not the leaf hash the log sent.
    const bool ok = audit::VerifyInclusion(audit::LeafHash(audit::EntryOf(e)), e.position(), sth->tree_size(), path, root);
    out[e.position()] = ok ? "verified" : "failed";
    if (!ok) log::Error("event_not_in_signed_log", {{"position", e.position()}});
  }
  return out;
}

HttpResponse PortalApp::Timeline(Visit& v) {
  v1::ListAccessEventsRequest r;
  r.set_customer_id(v.session->subject);
  r.set_language(v.en ? "en" : "nl");
  r.mutable_page()->set_page_size(kTimelinePage);
  r.mutable_page()->set_page_token(v.query.Get("page"));
  // The customer's own visits to My data would bury what others did: shown on request.
  const bool own = v.query.Get("own") == "1";
  r.set_hide_own_views(!own);
  auto events = platform_.ListAccessEvents(r);
  if (!events.ok()) return ErrorPage(v, events.status());
  v1::SignedTreeHead head;
  bool head_ok = false;
  std::map<int64_t, std::string> checked = CheckInLog(*events, &head, &head_ok);
  std::string items;
  for (const v1::AccessEvent& e : events->events()) {
    const bool denied = e.fields_released_size() == 0;
    std::string mark;
    const std::string& outcome = checked[e.position()];
    if (outcome == "verified") {
      mark = absl::StrCat("<p class=\"proof ok\">&#10003; ",
                          v.T("Gecontroleerd: staat in het ondertekende logboek", "Checked: in the signed log"),
                          "</p>");
    } else if (outcome == "pending") {
      mark = absl::StrCat("<p class=\"proof\">",
                          v.T("Net gebeurd: wordt binnen een seconde ondertekend", "Just happened: signed within a second"),
                          "</p>");
    } else if (outcome == "failed") {
      mark = absl::StrCat("<p class=\"proof bad\">&#10007; ",
                          v.T("Controle mislukt: dit staat niet zo in het ondertekende logboek. Wij zijn gewaarschuwd.",
                              "Check failed: this is not in the signed log as shown. We have been alerted."),
                          "</p>");
    } else {
      mark = absl::StrCat("<p class=\"proof\">", v.T("Kon nu niet worden gecontroleerd", "Could not be checked now"),
                          "</p>");
    }
    // The explanation names what was withheld and why.
    absl::StrAppend(&items, "<li", denied ? " class=\"denied\"" : "", "><p>", HtmlEscape(e.explanation()), "</p>",
                    mark, "</li>");
  }
  std::string body = absl::StrCat(
      "<h1>", v.T("Wie keek er naar mijn gegevens?", "Who looked at my data?"), "</h1><p>",
      v.T("Elke keer dat iemand (een medewerker, een bot of een systeem) uw gegevens opvraagt, schrijven wij dat "
          "op in een logboek dat niet ongemerkt te veranderen is. Het nieuwste staat bovenaan.",
          "Every time someone (an employee, a bot or a system) asks for your data, we write it down in a log that "
          "cannot be changed unnoticed. The newest is at the top."),
      "</p><p class=\"small\">",
      own ? absl::StrCat("<a href=\"/my/access\">", v.T("Verberg mijn eigen bezoeken aan Mijn gegevens",
                                                        "Hide my own visits to My data"), "</a>")
          : absl::StrCat(v.T("Uw eigen bezoeken aan Mijn gegevens staan hier niet. ",
                             "Your own visits to My data are not shown here. "),
                         "<a href=\"/my/access?own=1\">", v.T("Toon ze ook", "Show them too"), "</a>"),
      "</p>");
  if (items.empty()) {
    absl::StrAppend(&body, "<p>", v.T("Nog niemand heeft uw gegevens bekeken.", "Nobody has looked at your data yet."),
                    "</p>");
  } else {
    absl::StrAppend(&body, "<ol class=\"timeline\">", items, "</ol>");
  }
  std::string pager;
  if (!v.query.Get("page").empty()) {
    absl::StrAppend(&pager, "<a href=\"/my/access\">", v.T("Nieuwste", "Newest"), "</a>");
  }
  if (!events->next_page_token().empty()) {
    absl::StrAppend(&pager, "<a href=\"/my/access?", own ? "own=1&amp;" : "", "page=",
                    UrlEncode(events->next_page_token()), "\">",
                    v.T("Oudere", "Older"), "</a>");
  }
  if (!pager.empty()) absl::StrAppend(&body, "<nav class=\"pager\" aria-label=\"", v.T("Pagina's", "Pages"), "\">", pager, "</nav>");
  if (head_ok) {
    absl::StrAppend(&body, "<details><summary>", v.T("Hoe is dit gecontroleerd?", "How was this checked?"),
                    "</summary><div><p class=\"small\">",
                    v.T("Het logboek is een Merkle-boom (zoals bij Certificate Transparency). Elke seconde wordt de "
                        "top ondertekend. Voor elk item hierboven is nagerekend dat het precies zo in de boom staat "
                        "die hoort bij deze handtekening:",
                        "The log is a Merkle tree (as in Certificate Transparency). Its top is signed every second. "
                        "For each item above we recomputed that it is in the tree of this signature exactly as "
                        "shown:"),
                    "</p><p class=\"mono\">", v.T("grootte ", "size "), head.tree_size(), "<br>",
                    v.T("wortel ", "root "), audit::HashHex(audit::HashFromBytes(head.root_hash())), "<br>",
                    v.T("ondertekend ", "signed "), DateTime(FromProtoTime(head.timestamp()), v.en),
                    "</p></div></details>");
  } else {
    absl::StrAppend(&body, "<p class=\"warning\">",
                    v.T("De handtekening van het logboek kon nu niet worden gecontroleerd.",
                        "The log's signature could not be checked right now."),
                    "</p>");
  }
  return Html(v, 200, v.T("Wie keek er?", "Who looked?"), body);
}

HttpResponse PortalApp::Erase(Visit& v) {
  auto state = platform_.GetConsent(v.session->subject);
  if (!state.ok()) return ErrorPage(v, state.status());
  const bool restricted = state->restriction().all();
  std::string notice;
  if (v.query.Get("done") == "restricted") {
    notice = absl::StrCat("<p class=\"notice\" role=\"status\">",
                          v.T("Het gebruik van uw gegevens is nu beperkt.", "The use of your data is now restricted."),
                          "</p>");
  } else if (v.query.Get("done") == "lifted") {
    notice = absl::StrCat("<p class=\"notice\" role=\"status\">",
                          v.T("De beperking is opgeheven.", "The restriction has been lifted."), "</p>");
  }
  std::string restrict_part = absl::StrCat(
      "<section class=\"card\"><h2>", v.T("Gebruik beperken", "Restrict use"), "</h2>");
  if (restricted) {
    absl::StrAppend(&restrict_part, "<p><strong>",
                    v.T("Het gebruik van uw gegevens is beperkt.", "The use of your data is restricted."),
                    "</strong> ",
                    v.T("Wij bewaren ze, maar gebruiken ze alleen nog voor wat de wet van ons vraagt.",
                        "We keep it, but use it only for what the law requires of us."),
                    "</p>",
                    Form(v, "/my/restrict",
                         absl::StrCat("<input type=\"hidden\" name=\"action\" value=\"lift\"><button type=\"submit\" "
                                      "class=\"secondary\">",
                                      v.T("Beperking opheffen", "Lift the restriction"), "</button>")));
  } else {
    absl::StrAppend(&restrict_part, "<p>",
                    v.T("Twijfelt u of uw gegevens kloppen, of heeft u bezwaar gemaakt? Dan kunt u het gebruik "
                        "laten beperken: wij bewaren uw gegevens, maar gebruiken ze dan alleen nog voor wat de wet "
                        "van ons vraagt. Ook onze klantenservice ziet ze dan niet meer.",
                        "Do you doubt your data is correct, or have you objected? Then you can have its use "
                        "restricted: we keep your data, but use it only for what the law requires of us. Our "
                        "customer service no longer sees it either."),
                    "</p>",
                    Form(v, "/my/restrict",
                         absl::StrCat("<input type=\"hidden\" name=\"action\" value=\"restrict\"><button type=\"submit\">",
                                      v.T("Gebruik beperken", "Restrict use"), "</button>")));
  }
  absl::StrAppend(&restrict_part, "</section>");
  const std::string erase_part = absl::StrCat(
      "<section class=\"card\"><h2>", v.T("Gegevens wissen", "Erase your data"), "</h2><p>",
      v.T("Wij wissen dan alles wat wij van u hebben, in al onze systemen: uw gegevens, uw keuzes en de "
          "verwijzing van ons logboek naar u. Dit kan niet ongedaan worden gemaakt. Bent u later weer klant, "
          "dan begint u opnieuw.",
          "We then erase everything we hold about you, in all our systems: your data, your choices and the link "
          "from our log to you. This cannot be undone. Should you become a customer again later, you start "
          "afresh."),
      "</p><p>",
      v.T("Stuurden wij u facturen? Dan schrijft de wet voor dat wij uw naam, klantnummer, factuuradres en "
          "betaalgegevens nog zeven jaar bewaren. Die worden daarna vanzelf gewist; u krijgt precies te zien "
          "welke het zijn.",
          "Did we send you invoices? Then the law requires us to keep your name, customer number, billing "
          "address and payment details for seven years. They are erased automatically afterwards; you will "
          "see exactly which."),
      "</p><p>", v.T("Wilt u eerst een kopie? ", "Would you like a copy first? "), "<a href=\"/my/download\">",
      v.T("Download uw gegevens", "Download your data"), "</a>.</p>",
      Form(v, "/my/erase",
           absl::StrCat("<p><label><input type=\"checkbox\" name=\"confirm\" value=\"yes\" required> ",
                        v.T("Ik begrijp dat wissen niet ongedaan kan worden.",
                            "I understand that erasing cannot be undone."),
                        "</label></p><button type=\"submit\" class=\"danger\">",
                        v.T("Wis al mijn gegevens", "Erase all my data"), "</button>")),
      "</section>");
  return Html(
      v, 200, v.T("Wissen of beperken", "Erase or restrict"),
      absl::StrCat(
          notice, "<h1>", v.T("Gegevens wissen of het gebruik beperken", "Erase your data or restrict its use"), "</h1>",
          restrict_part, erase_part, "<p>",
          v.T("Het gebruik voor de meeste doelen kunt u ook per doel uitzetten bij ",
              "You can also switch off use for most purposes one by one under "),
          "<a href=\"/my/choices\">", v.T("Mijn keuzes", "My choices"), "</a>.</p>"));
}

HttpResponse PortalApp::EraseNow(Visit& v) {
  if (v.form.Get("confirm") != "yes") {
    return Html(v, 400, v.T("Wissen niet bevestigd", "Erasure not confirmed"),
                absl::StrCat("<h1>", v.T("Er is niets gewist", "Nothing was erased"), "</h1><p>",
                             v.T("Vink eerst aan dat u begrijpt dat wissen niet ongedaan kan worden.",
                                 "First tick the box to say you understand that erasing cannot be undone."),
                             "</p><p><a href=\"/my/erase\">", v.T("Terug", "Back"), "</a></p>"));
  }
  const std::string customer = v.session->subject;
  v1::EraseCustomerRequest r;
  r.set_customer_id(customer);
  r.set_channel(v1::PORTAL);
  r.mutable_acting_party()->set_kind(v1::ActingParty::DATA_SUBJECT);
  r.mutable_acting_party()->set_id("self");
  absl::StatusOr<v1::EraseCustomerResponse> done = platform_.EraseCustomer(r);
  // Started (the job completes by itself) or done: either way the customer's sessions and
  // sign-in links go now, this one included.
  const bool started = absl::IsUnavailable(done.status()) &&
                       absl::StrContains(done.status().message(), "completed automatically");
  if (!done.ok() && !started) return ErrorPage(v, done.status());
  auto removed = store_.DeleteCustomer(customer);
  log::Info("customer_erasure_requested", {{"done", done.ok()}, {"sign_in_rows_deleted", removed.ok() ? *removed : -1}});
  EndSession(v);
  if (!done.ok()) {
    return Html(v, 202, v.T("Wissen is begonnen", "Erasure has started"),
                absl::StrCat("<h1>", v.T("Wissen is begonnen", "Erasure has started"), "</h1><p>",
                             v.T("Een deel van onze systemen reageerde niet meteen. Het wissen gaat vanzelf verder "
                                 "en wordt afgemaakt; u hoeft niets meer te doen. U bent uitgelogd.",
                                 "Part of our systems did not answer at once. The erasure carries on by itself and "
                                 "will be completed; you need not do anything more. You have been signed out."),
                             "</p><p>", v.T("Wilt u het bewijs van het wissen? Vraag het ons: ",
                                           "Would you like the proof of erasure? Ask us: "),
                             ContactLine(v), ".</p>"));
  }
  // What the receipt says was kept, for people: field names and until when.
  std::string kept;
  google::protobuf::Struct receipt;
  if (google::protobuf::util::JsonStringToMessage(done->receipt_json(), &receipt).ok() &&
      receipt.fields().contains("kept")) {
    auto catalog = Catalog();
    for (const auto& item : receipt.fields().at("kept").list_value().values()) {
      const auto& f = item.struct_value().fields();
      std::vector<std::string> names;
      if (f.contains("fields")) {
        for (const auto& field : f.at("fields").list_value().values()) {
          names.push_back(catalog.ok() ? FieldTitle(**catalog, field.string_value(), v.en) : field.string_value());
        }
      }
      absl::Time until;
      std::string until_text = f.contains("keptUntil") ? f.at("keptUntil").string_value() : "";
      if (absl::ParseTime(absl::RFC3339_full, until_text, &until, nullptr)) until_text = DateTime(until, v.en);
      absl::StrAppend(&kept, "<li>", HtmlEscape(absl::StrJoin(names, ", ")), " &mdash; ",
                      v.T("tot ", "until "), HtmlEscape(until_text), "</li>");
    }
  }
  std::string body = absl::StrCat(
      "<h1>", v.T("Uw gegevens zijn gewist", "Your data has been erased"), "</h1><p>",
      v.T("Wij hebben uw gegevens uit al onze systemen gewist. De sleutel waarmee ze versleuteld waren is "
          "vernietigd, dus ook oude reservekopie&euml;n zijn onleesbaar. Onze andere systemen hebben bericht "
          "gekregen om hun kopie te wissen. U bent uitgelogd.",
          "We have erased your data from all our systems. The key it was encrypted with has been destroyed, so "
          "old backups cannot be read either. Our other systems have been told to delete their copies. You have "
          "been signed out."),
      "</p>");
  if (!kept.empty()) {
    absl::StrAppend(&body, "<h2>", v.T("Wat de wet ons laat bewaren", "What the law makes us keep"), "</h2><p>",
                    v.T("Omdat wij u facturen stuurden, moeten wij deze gegevens nog bewaren. Niemand gebruikt ze "
                        "voor iets anders, en daarna worden ze vanzelf gewist:",
                        "Because we sent you invoices, we must keep this data for now. Nobody uses it for anything "
                        "else, and afterwards it is erased automatically:"),
                    "</p><ul>", kept, "</ul>");
  }
  absl::StrAppend(
      &body, "<h2>", v.T("Uw bewijs", "Your proof"), "</h2><p>",
      v.T("Bewaar dit bewijs: het is ondertekend, zodat u kunt aantonen dat wij uw gegevens wisten.",
          "Keep this proof: it is signed, so you can show that we erased your data."),
      "</p><p><a class=\"button\" download=\"erasure-receipt.jws\" href=\"data:application/jose;base64,",
      absl::Base64Escape(done->receipt_signature()), "\">", v.T("Bewijs downloaden", "Download the proof"),
      "</a></p><details><summary>", v.T("Het bewijs als tekst", "The proof as text"),
      "</summary><pre class=\"receipt\">", HtmlEscape(done->receipt_json()), "</pre></details>");
  return Html(v, 200, v.T("Gegevens gewist", "Data erased"), body);
}

HttpResponse PortalApp::Restrict(Visit& v) {
  const std::string action = v.form.Get("action");
  if (action != "restrict" && action != "lift") return ErrorPage(v, absl::InvalidArgumentError("action"));
  v1::RestrictProcessingRequest r;
  r.set_customer_id(v.session->subject);
  r.set_restrict(action == "restrict");
  r.set_channel(v1::PORTAL);
  r.mutable_acting_party()->set_kind(v1::ActingParty::DATA_SUBJECT);
  r.mutable_acting_party()->set_id("self");
  r.set_idempotency_key(RandomToken(18));
  auto done = platform_.RestrictProcessing(r);
  if (!done.ok()) return ErrorPage(v, done.status());
  log::Info("restriction_changed", {{"restrict", r.restrict()}});
  return Redirect(action == "restrict" ? "/my/erase?done=restricted" : "/my/erase?done=lifted");
}

HttpResponse PortalApp::CustomerApi(Visit& v) {
  // /api/customers/{id}/data.json or /api/customers/{id}/receipts/{receipt}.jws
  std::vector<std::string> parts = absl::StrSplit(v.req.path.substr(std::string("/api/customers/").size()), '/');
  auto json_error = [](int status, const std::string& message) {
    HttpResponse r;
    r.status = status;
    r.content_type = "application/json";
    r.body = absl::StrCat("{\"error\":", JsonString(message), "}\n");
    r.headers.emplace_back("Cache-Control", "no-store");
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
    return r;
  };
  if (parts.empty() || UrlDecode(parts[0], false) != v.session->subject) {
    log::Warning("other_customer_refused", {{"path_kind", "api"}});
    return json_error(403, "you may only see your own data");
  }
  if (parts.size() == 2 && (parts[1] == "data.json" || parts[1] == "report.html")) {
    // The complete answer to an access request, made by the rights service.
    v1::ExportMyDataRequest request;
    request.set_customer_id(v.session->subject);
    request.set_language(v.en ? "en" : "nl");
    request.mutable_acting_party()->set_kind(v1::ActingParty::DATA_SUBJECT);
    request.mutable_acting_party()->set_id("self");
    auto exported = platform_.ExportMyData(request);
    if (!exported.ok()) {
      log::Warning("export_failed", {{"code", absl::StatusCodeToString(exported.status().code())}});
      return json_error(503, "your data cannot be exported right now; please try again later");
    }
    HttpResponse r;
    const bool html = parts[1] == "report.html";
    r.content_type = html ? "text/html; charset=utf-8" : "application/json";
    r.headers.emplace_back("Content-Disposition", html ? "attachment; filename=\"my-data.html\""
                                                       : "attachment; filename=\"my-data.json\"");
    r.headers.emplace_back("Cache-Control", "no-store");
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
    // The report carries its own style sheet and nothing else.
    r.headers.emplace_back("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
    r.body = html ? exported->html() : exported->json();
    return r;
  }
  if (parts.size() == 3 && parts[1] == "receipts" && absl::EndsWith(parts[2], ".jws")) {
    const std::string receipt_id = UrlDecode(parts[2].substr(0, parts[2].size() - 4), false);
    v1::ListConsentHistoryRequest h;
    h.set_customer_id(v.session->subject);
    h.mutable_page()->set_page_size(1000);
    for (;;) {
      auto history = platform_.ListConsentHistory(h);
      if (!history.ok()) return json_error(503, "not available right now");
      for (const v1::ConsentChange& change : history->changes()) {
        if (change.receipt().receipt_id() == receipt_id && !receipt_id.empty()) {
          HttpResponse r;
          r.content_type = "application/jose";
          r.headers.emplace_back("Content-Disposition",
                                 absl::StrCat("attachment; filename=\"consent-receipt-", change.version(), ".jws\""));
          r.headers.emplace_back("Cache-Control", "no-store");
          r.body = change.receipt().jws() + "\n";
          return r;
        }
      }
      if (history->next_page_token().empty()) break;
      h.mutable_page()->set_page_token(history->next_page_token());
    }
    return json_error(404, "no such receipt of yours");
  }
  return json_error(404, "not found");
}

}  // namespace cdp::portal
