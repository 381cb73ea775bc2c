// The customer portal and the auditor console: every page and form, over HttpsServer.
//
// Customers sign in with a one-time link sent to their e-mail address and then see only
// their own data: the customer is always the session's, never an id from the URL or a
// form. Auditors sign in with an account (Argon2id password, optional TOTP) and only read.
// Every form carries a CSRF token; sessions live in HttpOnly, Secure, SameSite=Strict
// cookies; every page is sent with a Content-Security-Policy that allows no script at all.
// What a customer or an auditor looks at reaches the access log through the services the
// portal calls (profile reads and auditor queries are logged there).
//
// Thread-safe: handlers run on the server's worker threads.
#ifndef CDP_SERVICES_PORTAL_PORTAL_APP_H_
#define CDP_SERVICES_PORTAL_PORTAL_APP_H_

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "cdp/v1/catalog.pb.h"
#include "services/portal/https_server.h"
#include "services/portal/mailer.h"
#include "services/common/platform_client.h"
#include "services/portal/portal_store.h"

namespace cdp::portal {

using rpc::PlatformClient;

struct PortalOptions {
  // The address customers reach the portal at, for the links in e-mail ("https://host:port").
  std::string public_url;
  // The access log's public key (PEM): tree heads are checked against it, not against the
  // key the log sends.
  std::string log_public_key_pem;
  absl::Duration link_ttl = absl::Minutes(15);
  absl::Duration customer_session_ttl = absl::Minutes(30);
  absl::Duration auditor_session_ttl = absl::Hours(8);
  // Sign-in attempts allowed per hour: per e-mail address or account, and per client address.
  int sign_ins_per_subject = 5;
  int sign_ins_per_peer = 30;
};

// Allows `limit` events per key in any sliding `window`. Keys are kept as SHA-256, so a
// long key costs no more memory than a short one. Thread-safe.
class RateLimiter {
 public:
  RateLimiter(int limit, absl::Duration window) : limit_(limit), window_(window) {}
  // Counts the attempt and says whether it is within the limit.
  bool Allow(const std::string& key, absl::Time now);
  // Whether the key is at its limit, without counting.
  bool Blocked(const std::string& key, absl::Time now);
  // Counts an event (e.g. a failed attempt) without checking.
  void Count(const std::string& key, absl::Time now);

 private:
  std::deque<absl::Time>& Times(const std::string& key, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const int limit_;
  const absl::Duration window_;
  absl::Mutex mu_;
  std::map<std::string, std::deque<absl::Time>> seen_ ABSL_GUARDED_BY(mu_);
  absl::Time last_sweep_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

// The client part of a peer address that one party controls: an IPv4 address, or an
// IPv6 /64 (one host may hold a whole /64).
std::string PeerKey(const std::string& peer);

class PortalApp {
 public:
  PortalApp(PortalOptions options, PortalStore& store, PlatformClient& platform, Mailer& mailer,
            std::function<absl::Time()> clock);

  // Registers every page and form on `server` (before it starts).
  void Register(HttpsServer& server);

  // One request's context: language, session, the pre-session cookie for forms shown
  // before signing in. Public for the page functions in the .cc files.
  struct Visit;

 private:
  // Customers.
  HttpResponse Home(Visit& v);
  HttpResponse SignIn(Visit& v);
  HttpResponse LinkPage(Visit& v);
  HttpResponse UseLink(Visit& v);
  HttpResponse SignOut(Visit& v);
  HttpResponse Overview(Visit& v);
  HttpResponse MyData(Visit& v, bool for_download);
  HttpResponse Choices(Visit& v);
  HttpResponse SaveChoices(Visit& v);
  HttpResponse Timeline(Visit& v);
  HttpResponse Erase(Visit& v);
  HttpResponse Restrict(Visit& v);
  HttpResponse EraseNow(Visit& v);
  // The browser forgets its session cookie, and the page is drawn as signed out.
  void EndSession(Visit& v);
  HttpResponse CustomerApi(Visit& v);
  // Auditors.
  HttpResponse AuditorSignInPage(Visit& v, const std::string& error);
  HttpResponse AuditorSignIn(Visit& v);
  HttpResponse AuditSearch(Visit& v, bool denied_only);
  HttpResponse AuditEvent(Visit& v);
  HttpResponse AuditIntegrity(Visit& v);
  HttpResponse AuditVerify(Visit& v);
  HttpResponse AuditExport(Visit& v);
  HttpResponse AuditUnusual(Visit& v);
  // Shared.
  HttpResponse Language(Visit& v);
  HttpResponse SignInPage(Visit& v, const std::string& error, const std::string& email);
  HttpResponse BadLink(Visit& v);
  static HttpResponse Redirect(const std::string& to);

  // Wraps a handler: builds the Visit, checks the session kind it needs ("" none,
  // "customer", "auditor") and, for POST, the CSRF token.
  HttpHandler Page(const std::string& needs, HttpResponse (PortalApp::*fn)(Visit&));
  HttpHandler Page(const std::string& needs, std::function<HttpResponse(PortalApp*, Visit&)> fn);
  // The catalog, fetched from the consent service and kept for a minute.
  absl::StatusOr<std::shared_ptr<const v1::Catalog>> Catalog();
  absl::StatusOr<Session> StartSession(const std::string& kind, const std::string& subject, HttpResponse& r);
  std::string PreSessionToken(const std::string& pre) const;
  // The token forms carry: the session's, or before signing in one bound to the
  // pre-session cookie.
  std::string CsrfToken(const Visit& v) const;
  bool CheckCsrf(const Visit& v) const;
  // The layout around `body`: header, menu for the signed-in kind, footer.
  HttpResponse Html(const Visit& v, int status, const std::string& title, const std::string& body);
  HttpResponse ErrorPage(const Visit& v, const absl::Status& status);
  std::string Form(const Visit& v, const std::string& action, const std::string& inner,
                   const std::string& css_class = "") const;
  // Checks each event of a timeline page against the signed log: position -> outcome.
  std::map<int64_t, std::string> CheckInLog(const v1::ListAccessEventsResponse& events, v1::SignedTreeHead* head,
                                            bool* head_ok);
  std::string ControllerName();
  std::string ContactLine(const Visit& v);

  const PortalOptions options_;
  PortalStore& store_;
  PlatformClient& platform_;
  Mailer& mailer_;
  const std::function<absl::Time()> clock_;
  const std::string csrf_key_;   // keys pre-session CSRF tokens; new at every start
  RateLimiter per_subject_;
  RateLimiter per_peer_;
  RateLimiter per_account_;   // failed auditor sign-ins per account, from anywhere
  absl::Mutex catalog_mu_;
  std::shared_ptr<const v1::Catalog> catalog_ ABSL_GUARDED_BY(catalog_mu_);
  absl::Time catalog_fetched_ ABSL_GUARDED_BY(catalog_mu_) = absl::InfinitePast();
};

}  // namespace cdp::portal

#endif  // CDP_SERVICES_PORTAL_PORTAL_APP_H_
