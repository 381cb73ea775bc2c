// The portal's plumbing: visits, sessions, CSRF, layout, language, sign-in by e-mail link.
// The customer pages are in customer_pages.cc, the auditor console in auditor_pages.cc.
#include "services/portal/portal_app.h"

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "openssl/hmac.h"
#include "services/common/log.h"
#include "services/portal/auth.h"
#include "services/portal/page_parts.h"
#include "services/portal/web_util.h"

namespace cdp::portal {
namespace {

constexpr char kSessionCookie[] = "__Host-cdp_session";
constexpr char kPreCookie[] = "__Host-cdp_pre";
constexpr char kLangCookie[] = "cdp_lang";
constexpr int kMaxLinksPerMail = 5;

// What every page is sent with: no script at all, no framing, no referrer (sign-in links
// carry a token), nothing cached (pages show personal data).
void SecurityHeaders(HttpResponse& r) {
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                         "frame-ancestors 'none'; base-uri 'none'");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("Strict-Transport-Security", "max-age=31536000");
  r.headers.emplace_back("Cache-Control", "no-store");
  r.headers.emplace_back("Permissions-Policy", "camera=(), microphone=(), geolocation=()");
}

std::string Cookie(const std::string& name, const std::string& value, absl::Duration max_age, bool http_only,
                   const char* same_site) {
  return absl::StrCat(name, "=", value, "; Path=/; Secure; ", http_only ? "HttpOnly; " : "", "SameSite=", same_site,
                      "; Max-Age=", absl::ToInt64Seconds(max_age));
}

bool LooksLikeToken(const std::string& s) {
  if (s.size() < 20 || s.size() > 64) return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

// Plausible enough to look up: the profile service normalises and says the rest.
bool LooksLikeEmail(const std::string& s) {
  const size_t at = s.find('@');
  return s.size() >= 3 && s.size() <= 254 && at != std::string::npos && at > 0 && at + 1 < s.size() &&
         s.find_first_of(" \r\n<>\"") == std::string::npos;
}

}  // namespace

std::deque<absl::Time>& RateLimiter::Times(const std::string& key, absl::Time now) {
  // Forget keys nobody used for a window, so the map cannot grow without bound; at most
  // every ten seconds, so a full map does not make every call slow.
  if (seen_.size() > 100000 && now - last_sweep_ > absl::Seconds(10)) {
    last_sweep_ = now;
    for (auto it = seen_.begin(); it != seen_.end();) {
      it = it->second.empty() || it->second.back() < now - window_ ? seen_.erase(it) : std::next(it);
    }
  }
  std::deque<absl::Time>& times = seen_[Sha256(key)];
  while (!times.empty() && times.front() <= now - window_) times.pop_front();
  return times;
}

bool RateLimiter::Allow(const std::string& key, absl::Time now) {
  absl::MutexLock lock(&mu_);
  std::deque<absl::Time>& times = Times(key, now);
  if (static_cast<int>(times.size()) >= limit_) return false;
  times.push_back(now);
  return true;
}

bool RateLimiter::Blocked(const std::string& key, absl::Time now) {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(Times(key, now).size()) >= limit_;
}

void RateLimiter::Count(const std::string& key, absl::Time now) {
  absl::MutexLock lock(&mu_);
  Times(key, now).push_back(now);
}

std::string PeerKey(const std::string& peer) {
  if (peer.find(':') == std::string::npos) return peer;
  // The first four groups of an IPv6 address (no "::" among them, else the whole address).
  size_t pos = 0;
  for (int groups = 0; groups < 4; ++groups) {
    pos = peer.find(':', pos);
    if (pos == std::string::npos || (pos + 1 < peer.size() && peer[pos + 1] == ':')) return peer;
    ++pos;
  }
  return peer.substr(0, pos) + ":/64";
}

PortalApp::PortalApp(PortalOptions options, PortalStore& store, PlatformClient& platform, Mailer& mailer,
                     std::function<absl::Time()> clock)
    : options_(std::move(options)),
      store_(store),
      platform_(platform),
      mailer_(mailer),
      clock_(std::move(clock)),
      csrf_key_(RandomToken(32)),
      per_subject_(options_.sign_ins_per_subject, absl::Hours(1)),
      per_peer_(options_.sign_ins_per_peer, absl::Hours(1)),
      per_account_(options_.sign_ins_per_subject * 4, absl::Hours(1)) {}

void PortalApp::Register(HttpsServer& server) {
  server.Handle("GET", "/", Page("", &PortalApp::Home));
  server.Handle("POST", "/signin", Page("", &PortalApp::SignIn));
  server.Handle("GET", "/signin/link", Page("", &PortalApp::LinkPage));
  server.Handle("POST", "/signin/link", Page("", &PortalApp::UseLink));
  server.Handle("POST", "/signout", Page("", &PortalApp::SignOut));
  server.Handle("GET", "/lang", Page("", &PortalApp::Language));
  server.Handle("GET", "/my", Page("customer", &PortalApp::Overview));
  server.Handle("GET", "/my/data", Page("customer", [](PortalApp* app, Visit& v) { return app->MyData(v, false); }));
  server.Handle("GET", "/my/download",
                Page("customer", [](PortalApp* app, Visit& v) { return app->MyData(v, true); }));
  server.Handle("GET", "/my/choices", Page("customer", &PortalApp::Choices));
  server.Handle("POST", "/my/choices", Page("customer", &PortalApp::SaveChoices));
  server.Handle("GET", "/my/access", Page("customer", &PortalApp::Timeline));
  server.Handle("GET", "/my/erase", Page("customer", &PortalApp::Erase));
  server.Handle("POST", "/my/restrict", Page("customer", &PortalApp::Restrict));
  server.Handle("POST", "/my/erase", Page("customer", &PortalApp::EraseNow));
  server.HandlePrefix("GET", "/api/customers/", Page("customer", &PortalApp::CustomerApi));

  server.Handle("GET", "/audit/signin",
                Page("", [](PortalApp* app, Visit& v) { return app->AuditorSignInPage(v, ""); }));
  server.Handle("POST", "/audit/signin", Page("", &PortalApp::AuditorSignIn));
  server.Handle("GET", "/audit", Page("auditor", [](PortalApp* app, Visit& v) { return app->AuditSearch(v, false); }));
  server.Handle("GET", "/audit/denied",
                Page("auditor", [](PortalApp* app, Visit& v) { return app->AuditSearch(v, true); }));
  server.Handle("GET", "/audit/event", Page("auditor", &PortalApp::AuditEvent));
  server.Handle("GET", "/audit/integrity", Page("auditor", &PortalApp::AuditIntegrity));
  server.Handle("POST", "/audit/verify", Page("auditor", &PortalApp::AuditVerify));
  server.Handle("GET", "/audit/export.csv", Page("auditor", &PortalApp::AuditExport));
  server.Handle("GET", "/audit/unusual", Page("auditor", &PortalApp::AuditUnusual));

  server.Handle("GET", "/static/portal.css", [](const HttpRequest&) {
    HttpResponse r;
    r.content_type = "text/css; charset=utf-8";
    r.body = PortalCss();
    r.headers.emplace_back("Cache-Control", "max-age=3600");
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
    return r;
  });
}

HttpHandler PortalApp::Page(const std::string& needs, HttpResponse (PortalApp::*fn)(Visit&)) {
  return Page(needs, [fn](PortalApp* app, Visit& v) { return (app->*fn)(v); });
}

HttpHandler PortalApp::Page(const std::string& needs, std::function<HttpResponse(PortalApp*, Visit&)> fn) {
  return [this, needs, fn](const HttpRequest& req) {
    Visit v(req);
    v.query = FormValues(req.query);
    if (req.method == "POST") v.form = FormValues(req.body);
    auto header = req.headers.find("cookie");
    const auto cookies = ParseCookies(header == req.headers.end() ? "" : header->second);
    if (auto it = cookies.find(kLangCookie); it != cookies.end()) v.en = it->second == "en";
    if (auto it = cookies.find(kPreCookie); it != cookies.end() && LooksLikeToken(it->second)) {
      v.pre = it->second;
    } else {
      v.pre = RandomToken(24);
      v.new_pre = true;
    }
    if (auto it = cookies.find(kSessionCookie); it != cookies.end() && LooksLikeToken(it->second)) {
      auto found = store_.FindSession(Sha256(it->second), clock_());
      if (!found.ok()) return ErrorPage(v, found.status());
      v.session = *found;
      if (v.session && v.session->kind == "auditor") {
        // A disabled account's sessions end at once.
        auto auditor = store_.FindAuditor(v.session->subject);
        if (!auditor.ok()) return ErrorPage(v, auditor.status());
        if (!auditor->has_value() || (*auditor)->disabled) v.session.reset();
      }
    }
    HttpResponse r;
    const bool kind_ok = needs.empty() || (v.session && v.session->kind == needs);
    if (!kind_ok) {
      const std::string to = needs == "auditor" ? "/audit/signin" : "/";
      if (req.method == "GET" && !absl::StartsWith(req.path, "/api/")) {
        r = Redirect(to);
      } else {
        r = Html(v, 401, v.T("Niet ingelogd", "Not signed in"),
                 absl::StrCat("<h1>", v.T("U bent niet (meer) ingelogd", "You are not signed in (any more)"),
                              "</h1><p>", v.T("Log opnieuw in om verder te gaan.", "Sign in again to go on."),
                              "</p><p><a class=\"button\" href=\"", to, "\">", v.T("Inloggen", "Sign in"),
                              "</a></p>"));
      }
    } else if (req.method == "POST" && !CheckCsrf(v)) {
      log::Warning("csrf_refused", {{"path", req.path}});
      r = Html(v, 403, v.T("Formulier geweigerd", "Form refused"),
               absl::StrCat("<h1>", v.T("Dit formulier is verlopen", "This form has expired"), "</h1><p>",
                            v.T("Om u te beschermen nemen wij alleen formulieren aan die wij zelf net hebben "
                                "getoond. Ga terug, laad de pagina opnieuw en probeer het nog eens.",
                                "To protect you we only accept forms we have just shown. Go back, reload the "
                                "page and try again."),
                            "</p>"));
    } else {
      r = fn(this, v);
    }
    if (v.new_pre) {
      r.headers.emplace_back("Set-Cookie", Cookie(kPreCookie, v.pre, absl::Hours(12), true, "Strict"));
    }
    for (const std::string& c : v.set_cookies) r.headers.emplace_back("Set-Cookie", c);
    return r;
  };
}

std::string PortalApp::PreSessionToken(const std::string& pre) const {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  const std::string msg = "pre:" + pre;
  HMAC(EVP_sha256(), csrf_key_.data(), static_cast<int>(csrf_key_.size()),
       reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), mac, &len);
  std::string out;
  absl::WebSafeBase64Escape(absl::string_view(reinterpret_cast<const char*>(mac), len), &out);
  return out;
}

std::string PortalApp::CsrfToken(const Visit& v) const {
  return v.session ? v.session->csrf_token : PreSessionToken(v.pre);
}

bool PortalApp::CheckCsrf(const Visit& v) const {
  if (v.new_pre && !v.session) return false;  // no cookie came with the form
  const std::string given = v.form.Get("csrf");
  return !given.empty() && ConstantTimeEquals(given, CsrfToken(v));
}

std::string PortalApp::Form(const Visit& v, const std::string& action, const std::string& inner,
                            const std::string& css_class) const {
  return absl::StrCat("<form method=\"post\" action=\"", HtmlEscape(action), "\"",
                      css_class.empty() ? "" : absl::StrCat(" class=\"", css_class, "\""),
                      "><input type=\"hidden\" name=\"csrf\" value=\"", HtmlEscape(CsrfToken(v)), "\">", inner,
                      "</form>");
}

absl::StatusOr<std::shared_ptr<const v1::Catalog>> PortalApp::Catalog() {
  {
    absl::MutexLock lock(&catalog_mu_);
    if (catalog_ && clock_() - catalog_fetched_ < absl::Minutes(1)) return catalog_;
  }
  auto fetched = platform_.GetCatalog();
  absl::MutexLock lock(&catalog_mu_);
  if (!fetched.ok()) {
    if (catalog_) return catalog_;  // an older catalog still names things correctly
    return fetched.status();
  }
  catalog_ = std::make_shared<const v1::Catalog>(std::move(*fetched));
  catalog_fetched_ = clock_();
  return catalog_;
}

std::string PortalApp::ControllerName() {
  auto catalog = Catalog();
  return catalog.ok() && !(*catalog)->controller().name().empty() ? (*catalog)->controller().name() : "CDP";
}

HttpResponse PortalApp::Html(const Visit& v, int status, const std::string& title, const std::string& body) {
  HttpResponse r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  SecurityHeaders(r);
  const bool auditor = v.session && v.session->kind == "auditor";
  const bool customer = v.session && v.session->kind == "customer";
  const std::string here = absl::StrCat(v.req.path, v.req.query.empty() ? "" : "?", v.req.query);
  std::string nav;
  if (customer) {
    nav = absl::StrCat(
        "<nav class=\"menu\" aria-label=\"", v.T("Menu", "Menu"), "\"><ul>",
        MenuItem(v.req.path, "/my", v.T("Overzicht", "Overview")),
        MenuItem(v.req.path, "/my/data", v.T("Mijn gegevens", "My data")),
        MenuItem(v.req.path, "/my/choices", v.T("Mijn keuzes", "My choices")),
        MenuItem(v.req.path, "/my/access", v.T("Wie keek er?", "Who looked?")),
        MenuItem(v.req.path, "/my/download", v.T("Downloaden", "Download")),
        MenuItem(v.req.path, "/my/erase", v.T("Wissen", "Erase")), "<li>",
        Form(v, "/signout", absl::StrCat("<button type=\"submit\" class=\"link\">", v.T("Uitloggen", "Sign out"),
                                         "</button>")),
        "</li></ul></nav>");
  } else if (auditor) {
    nav = absl::StrCat(
        "<nav class=\"menu\" aria-label=\"", v.T("Menu", "Menu"), "\"><ul>",
        MenuItem(v.req.path, "/audit", v.T("Zoeken", "Search")),
        MenuItem(v.req.path, "/audit/denied", v.T("Geweigerd", "Denied")),
        MenuItem(v.req.path, "/audit/unusual", v.T("Ongebruikelijk", "Unusual")),
        MenuItem(v.req.path, "/audit/integrity", v.T("Integriteit", "Integrity")), "<li>",
        Form(v, "/signout", absl::StrCat("<button type=\"submit\" class=\"link\">", v.T("Uitloggen", "Sign out"),
                                         "</button>")),
        "</li></ul></nav>");
  }
  const std::string brand = ControllerName();
  r.body = absl::StrCat(
      "<!doctype html>\n<html lang=\"", v.en ? "en" : "nl", "\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<title>", HtmlEscape(title), " · ", HtmlEscape(brand), "</title>"
      "<link rel=\"stylesheet\" href=\"/static/portal.css\"></head><body",
      absl::StartsWith(v.req.path, "/audit") ? " class=\"console\"" : "", ">"
      "<a class=\"skip\" href=\"#main\">", v.T("Naar de inhoud", "Skip to content"), "</a>"
      "<header class=\"top\"><div class=\"wrap bar\"><a class=\"brand\" href=\"", auditor ? "/audit" : "/", "\">",
      HtmlEscape(brand), "<span>", auditor ? v.T("Auditconsole", "Audit console") : v.T("Mijn privacy", "My privacy"),
      "</span></a>", "<a class=\"lang\" href=\"/lang?to=", v.en ? "nl" : "en", "&amp;back=", UrlEncode(here),
      "\" lang=\"", v.en ? "nl" : "en", "\" hreflang=\"", v.en ? "nl" : "en", "\">",
      v.en ? "Nederlands" : "English", "</a></div>", nav, "</header>"
      "<main id=\"main\" class=\"wrap\">", body, "</main>"
      "<footer class=\"wrap foot\"><p>", HtmlEscape(brand), " · ",
      v.T("Vragen over uw privacy? ", "Questions about your privacy? "), ContactLine(v), "</p></footer>"
      "</body></html>\n");
  return r;
}

std::string PortalApp::ContactLine(const Visit& v) {
  auto catalog = Catalog();
  if (!catalog.ok()) return "";
  const v1::Controller& c = (*catalog)->controller();
  std::vector<std::string> parts;
  if (!c.email().empty()) parts.push_back(HtmlEscape(c.email()));
  if (!c.phone().empty()) parts.push_back(absl::StrCat(v.T("bel ", "call "), HtmlEscape(c.phone())));
  return absl::StrJoin(parts, " · ");
}

HttpResponse PortalApp::ErrorPage(const Visit& v, const absl::Status& status) {
  log::Warning("page_failed", {{"path", v.req.path}, {"code", absl::StatusCodeToString(status.code())}});
  int http = 503;
  std::string title = v.T("Even niet beschikbaar", "Not available right now");
  std::string text = v.T("Een deel van onze dienst is even niet bereikbaar. Er is niets veranderd en niets "
                         "getoond. Probeer het over een paar minuten opnieuw.",
                         "Part of our service cannot be reached right now. Nothing was changed or shown. "
                         "Please try again in a few minutes.");
  if (absl::IsNotFound(status)) {
    http = 404;
    title = v.T("Niet gevonden", "Not found");
    text = v.T("Wij kunnen dit niet vinden.", "We cannot find this.");
  } else if (absl::IsPermissionDenied(status)) {
    http = 403;
    title = v.T("Geen toegang", "No access");
    text = v.T("Dit mag u niet bekijken.", "You may not see this.");
  } else if (absl::IsInvalidArgument(status)) {
    http = 400;
    title = v.T("Dat ging niet goed", "That did not work");
    text = absl::StrCat(v.T("Controleer wat u invulde: ", "Please check what you entered: "),
                        std::string(status.message()));
  }
  return Html(v, http, title, absl::StrCat("<h1>", title, "</h1><p>", HtmlEscape(text), "</p>"));
}

HttpResponse PortalApp::Redirect(const std::string& to) {
  HttpResponse r;
  r.status = 303;
  r.headers.emplace_back("Location", to);
  SecurityHeaders(r);
  return r;
}

HttpResponse PortalApp::Language(Visit& v) {
  const std::string to = v.query.Get("to") == "en" ? "en" : "nl";
  std::string back = v.query.Get("back");
  if (!IsLocalPath(back)) back = "/";
  v.set_cookies.push_back(Cookie(kLangCookie, to, absl::Hours(24 * 365), false, "Lax"));
  return Redirect(back);
}

absl::StatusOr<Session> PortalApp::StartSession(const std::string& kind, const std::string& subject,
                                                HttpResponse& r) {
  const std::string token = RandomToken(32);
  Session s;
  s.id_sha256 = Sha256(token);
  s.kind = kind;
  s.subject = subject;
  s.csrf_token = RandomToken(24);
  s.created_at = clock_();
  const absl::Duration ttl = kind == "auditor" ? options_.auditor_session_ttl : options_.customer_session_ttl;
  s.expires_at = s.created_at + ttl;
  if (absl::Status st = store_.AddSession(s); !st.ok()) return st;
  r.headers.emplace_back("Set-Cookie", Cookie(kSessionCookie, token, ttl, true, "Strict"));
  return s;
}

HttpResponse PortalApp::SignOut(Visit& v) {
  auto header = v.req.headers.find("cookie");
  const auto cookies = ParseCookies(header == v.req.headers.end() ? "" : header->second);
  const bool auditor = v.session && v.session->kind == "auditor";
  if (auto it = cookies.find(kSessionCookie); it != cookies.end()) {
    if (absl::Status s = store_.DeleteSession(Sha256(it->second)); !s.ok()) return ErrorPage(v, s);
  }
  v.set_cookies.push_back(Cookie(kSessionCookie, "", absl::ZeroDuration(), true, "Strict"));
  return Redirect(auditor ? "/audit/signin" : "/?signed_out=1");
}

void PortalApp::EndSession(Visit& v) {
  v.set_cookies.push_back(Cookie(kSessionCookie, "", absl::ZeroDuration(), true, "Strict"));
  v.session.reset();
}

HttpResponse PortalApp::Home(Visit& v) {
  if (v.session && v.session->kind == "customer") return Redirect("/my");
  return SignInPage(v, "", "");
}

HttpResponse PortalApp::SignInPage(Visit& v, const std::string& error, const std::string& email) {
  std::string notice;
  if (v.query.Has("signed_out")) {
    notice = absl::StrCat("<p class=\"notice\" role=\"status\">", v.T("U bent uitgelogd.", "You have signed out."),
                          "</p>");
  }
  const std::string described = error.empty() ? "email-hint" : "email-hint email-error";
  std::string body = absl::StrCat(
      notice, "<h1>", v.T("Inloggen op Mijn privacy", "Sign in to My privacy"), "</h1><p>",
      v.T("Hier ziet u welke gegevens wij van u hebben, wie ze bekeek en waarom, en bepaalt u zelf waarvoor wij "
          "ze mogen gebruiken.",
          "Here you see which data we hold about you, who looked at it and why, and you decide what we may use it "
          "for."),
      "</p>",
      Form(v, "/signin",
           absl::StrCat("<label for=\"email\">", v.T("Uw e-mailadres", "Your e-mail address"), "</label>",
                        "<p class=\"hint\" id=\"email-hint\">",
                        v.T("Wij sturen u een link om in te loggen. U hebt geen wachtwoord nodig.",
                            "We send you a link to sign in. You do not need a password."),
                        "</p>",
                        error.empty() ? ""
                                      : absl::StrCat("<p class=\"error\" id=\"email-error\">", HtmlEscape(error),
                                                     "</p>"),
                        "<input type=\"email\" id=\"email\" name=\"email\" autocomplete=\"email\" required "
                        "aria-describedby=\"",
                        described, "\"", error.empty() ? "" : " aria-invalid=\"true\"", " value=\"",
                        HtmlEscape(email), "\">", "<button type=\"submit\">",
                        v.T("Stuur mij een inloglink", "Send me a sign-in link"), "</button>"),
           "stack"),
      "<p class=\"small\"><a href=\"/audit/signin\">", v.T("Inloggen als controleur", "Sign in as an auditor"),
      "</a></p>");
  return Html(v, error.empty() ? 200 : 400, v.T("Inloggen", "Sign in"), body);
}

HttpResponse PortalApp::SignIn(Visit& v) {
  const std::string email = std::string(absl::StripAsciiWhitespace(v.form.Get("email")));
  if (!LooksLikeEmail(email)) {
    return SignInPage(v, v.T("Vul een e-mailadres in, zoals naam@voorbeeld.nl.",
                             "Enter an e-mail address, such as name@example.com."),
                      email);
  }
  const absl::Time now = clock_();
  const std::string sent = absl::StrCat(
      "<h1>", v.T("Kijk in uw e-mail", "Check your e-mail"), "</h1><p>",
      v.T("Als wij dit e-mailadres kennen, hebben wij er zojuist een link naartoe gestuurd. Open die link binnen ",
          "If we know this e-mail address, we have just sent a link to it. Open the link within "),
      absl::ToInt64Minutes(options_.link_ttl), v.T(" minuten om in te loggen. De link werkt één keer.",
                                                  " minutes to sign in. The link works once."),
      "</p><p>", v.T("Geen e-mail gekregen? Kijk ook in uw map met ongewenste e-mail, of ",
                     "No e-mail? Also look in your junk mail folder, or "),
      "<a href=\"/\">", v.T("probeer het opnieuw", "try again"), "</a>.</p>");
  // Limits count silently: the answer is the same either way, so it reveals nothing.
  if (!per_peer_.Allow(PeerKey(v.req.peer), now) || !per_subject_.Allow(absl::AsciiStrToLower(email), now)) {
    log::Warning("sign_in_rate_limited", {});
    return Html(v, 200, v.T("Kijk in uw e-mail", "Check your e-mail"), sent);
  }
  v1::SearchProfilesRequest search;
  search.set_email(email);
  auto* ctx = search.mutable_context();
  ctx->set_purpose(kSelfServicePurpose);
  ctx->mutable_read_mask()->add_paths("given_name");
  ctx->mutable_acting_party()->set_kind(v1::ActingParty::AUTOMATED_SYSTEM);
  ctx->mutable_acting_party()->set_id("portal-sign-in");
  ctx->mutable_justification()->set_code(v1::Justification::CUSTOMER_REQUEST);
  ctx->mutable_justification()->set_reference(v.T("inloglink aangevraagd", "sign-in link requested"));
  auto found = platform_.SearchProfiles(search);
  if (!found.ok()) {
    if (absl::IsInvalidArgument(found.status())) {
      return SignInPage(v, v.T("Dit e-mailadres klopt niet. Controleer het en probeer het opnieuw.",
                               "This e-mail address is not valid. Please check it and try again."),
                        email);
    }
    return ErrorPage(v, found.status());
  }
  const int profiles = std::min(found->profiles_size(), kMaxLinksPerMail);
  if (profiles > 0) {
    std::string links;
    for (int i = 0; i < profiles; ++i) {
      const v1::ProfileView& p = found->profiles(i);
      const std::string token = RandomToken(32);
      if (absl::Status s = store_.AddSignInLink(Sha256(token), p.profile_id(), now, now + options_.link_ttl);
          !s.ok()) {
        return ErrorPage(v, s);
      }
      std::string label;
      if (profiles > 1) {
        // A name from a source system: one short line of plain text, nothing else.
        auto name = p.fields().find("given_name");
        std::string shown;
        for (char c : name == p.fields().end() ? std::string("?") : name->second) {
          if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f && c != '/' && c != ':') shown.push_back(c);
        }
        label = absl::StrCat(v.T("Voor ", "For "), shown.substr(0, 40), ":\n");
      }
      absl::StrAppend(&links, label, options_.public_url, "/signin/link?token=", token, "\n\n");
    }
    MailMessage mail;
    mail.to = email;
    mail.subject = absl::StrCat(v.T("Inloggen op Mijn privacy bij ", "Sign in to My privacy at "), ControllerName());
    mail.text = absl::StrCat(
        v.T("Goedendag,\n\nU vroeg om in te loggen op Mijn privacy. ", "Hello,\n\nYou asked to sign in to My privacy. "),
        profiles > 1 ? v.T("Bij dit e-mailadres horen meerdere klanten; elke link hieronder logt in als één van hen.\n\n",
                           "Several customers share this e-mail address; each link below signs in as one of them.\n\n")
                     : "\n",
        links,
        v.T("De link werkt één keer en is ", "The link works once and is valid for "),
        absl::ToInt64Minutes(options_.link_ttl), v.T(" minuten geldig.\n\n", " minutes.\n\n"),
        v.T("Vroeg u hier niet om? Dan kunt u deze e-mail negeren; er verandert niets.\n",
            "Did you not ask for this? Then ignore this e-mail; nothing changes.\n"));
    if (absl::Status s = mailer_.Send(mail); !s.ok()) return ErrorPage(v, s);
  }
  log::Info("sign_in_requested", {{"links", profiles}});
  return Html(v, 200, v.T("Kijk in uw e-mail", "Check your e-mail"), sent);
}

HttpResponse PortalApp::LinkPage(Visit& v) {
  const std::string token = v.query.Get("token");
  if (!LooksLikeToken(token)) return BadLink(v);
  // Signing in takes a press of the button, so that mail scanners that open links do not
  // use them up.
  return Html(v, 200, v.T("Inloggen", "Sign in"),
              absl::StrCat("<h1>", v.T("Welkom terug", "Welcome back"), "</h1><p>",
                           v.T("Druk op de knop om in te loggen.", "Press the button to sign in."), "</p>",
                           Form(v, "/signin/link",
                                absl::StrCat("<input type=\"hidden\" name=\"token\" value=\"", HtmlEscape(token),
                                             "\"><button type=\"submit\">", v.T("Inloggen", "Sign in"),
                                             "</button>"))));
}

HttpResponse PortalApp::BadLink(Visit& v) {
  return Html(v, 400, v.T("Link werkt niet", "Link does not work"),
              absl::StrCat("<h1>", v.T("Deze link werkt niet meer", "This link no longer works"), "</h1><p>",
                           v.T("Een inloglink werkt één keer en maar even. Vraag een nieuwe aan.",
                               "A sign-in link works once and only for a short while. Ask for a new one."),
                           "</p><p><a class=\"button\" href=\"/\">", v.T("Nieuwe link aanvragen", "Ask for a new link"),
                           "</a></p>"));
}

HttpResponse PortalApp::UseLink(Visit& v) {
  const std::string token = v.form.Get("token");
  if (!LooksLikeToken(token)) return BadLink(v);
  auto customer = store_.UseSignInLink(Sha256(token), clock_());
  if (!customer.ok()) return ErrorPage(v, customer.status());
  if (!customer->has_value()) return BadLink(v);
  HttpResponse r = Redirect("/my");
  auto session = StartSession("customer", **customer, r);
  if (!session.ok()) return ErrorPage(v, session.status());
  log::Info("signed_in", {{"kind", "customer"}});
  return r;
}

}  // namespace cdp::portal
