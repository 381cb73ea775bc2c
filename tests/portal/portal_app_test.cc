// The portal's pages with fakes for its store, the platform and mail, and a clock that
// moves only when told: sign-in links, sessions, CSRF, rate limits, escaping, and that a
// customer reaches only their own data. The same story in a real browser against real
// services is tests/browser/portal.test.mjs.
#include "services/portal/portal_app.h"

#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "services/portal/auth.h"
#include "services/portal/web_util.h"

namespace cdp::portal {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class FakeStore : public PortalStore {
 public:
  absl::Status AddSignInLink(const std::string& token_sha256, const std::string& customer_id, absl::Time,
                             absl::Time expires_at) override {
    absl::MutexLock l(&mu_);
    links_[token_sha256] = {customer_id, expires_at, false};
    return absl::OkStatus();
  }
  absl::StatusOr<std::optional<std::string>> UseSignInLink(const std::string& token_sha256, absl::Time now) override {
    absl::MutexLock l(&mu_);
    auto it = links_.find(token_sha256);
    if (it == links_.end() || it->second.used || it->second.expires_at <= now) return std::optional<std::string>();
    it->second.used = true;
    return std::optional<std::string>(it->second.customer);
  }
  absl::Status AddSession(const Session& s) override {
    absl::MutexLock l(&mu_);
    sessions_[s.id_sha256] = s;
    return absl::OkStatus();
  }
  absl::StatusOr<std::optional<Session>> FindSession(const std::string& id, absl::Time now) override {
    absl::MutexLock l(&mu_);
    auto it = sessions_.find(id);
    if (it == sessions_.end() || it->second.expires_at <= now) return std::optional<Session>();
    return std::optional<Session>(it->second);
  }
  absl::Status DeleteSession(const std::string& id) override {
    absl::MutexLock l(&mu_);
    sessions_.erase(id);
    return absl::OkStatus();
  }
  absl::StatusOr<int64_t> DeleteCustomer(const std::string& customer) override {
    absl::MutexLock l(&mu_);
    int64_t n = 0;
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      if (it->second.kind == "customer" && it->second.subject == customer) {
        it = sessions_.erase(it);
        ++n;
      } else {
        ++it;
      }
    }
    for (auto it = links_.begin(); it != links_.end();) {
      if (it->second.customer == customer) {
        it = links_.erase(it);
        ++n;
      } else {
        ++it;
      }
    }
    return n;
  }
  absl::StatusOr<int64_t> ErasureFeedPosition() override { return 0; }
  absl::Status SetErasureFeedPosition(int64_t) override { return absl::OkStatus(); }
  absl::StatusOr<int64_t> DeleteExpired(absl::Time) override { return 0; }
  absl::Status AddAuditor(const Auditor& a, absl::Time) override {
    absl::MutexLock l(&mu_);
    auditors_[a.name] = a;
    return absl::OkStatus();
  }
  absl::StatusOr<std::optional<Auditor>> FindAuditor(const std::string& name) override {
    absl::MutexLock l(&mu_);
    auto it = auditors_.find(name);
    if (it == auditors_.end()) return std::optional<Auditor>();
    return std::optional<Auditor>(it->second);
  }
  absl::StatusOr<bool> UseTotpStep(const std::string& name, int64_t step) override {
    absl::MutexLock l(&mu_);
    auto [it, added] = totp_steps_.emplace(name, step);
    if (!added && it->second >= step) return false;
    it->second = step;
    return true;
  }
  absl::Status AddVerification(const Verification&) override { return absl::OkStatus(); }
  absl::StatusOr<std::optional<Verification>> LatestVerification() override { return std::optional<Verification>(); }

 private:
  struct Link {
    std::string customer;
    absl::Time expires_at;
    bool used;
  };
  absl::Mutex mu_;
  std::map<std::string, Link> links_;
  std::map<std::string, Session> sessions_;
  std::map<std::string, Auditor> auditors_;
  std::map<std::string, int64_t> totp_steps_;
};

// Two customers, found by e-mail; reads answer with the customer's fields.
class FakePlatform : public PlatformClient {
 public:
  FakePlatform() {
    std::ifstream in(std::string(CDP_SOURCE_DIR) + "/consent/catalog/default.textproto");
    std::stringstream text;
    text << in.rdbuf();
    if (!google::protobuf::TextFormat::ParseFromString(text.str(), &catalog_)) std::abort();
    people_["p-anna"] = {{"email", "anna@example.nl"}, {"given_name", "Anna <b>"}};
    people_["p-kees"] = {{"email", "kees@example.nl"}, {"given_name", "Kees"}};
  }
  absl::StatusOr<v1::Catalog> GetCatalog() override { return catalog_; }
  absl::StatusOr<v1::ConsentState> GetConsent(const std::string& id) override {
    v1::ConsentState s;
    s.set_customer_id(id);
    return s;
  }
  absl::StatusOr<v1::UpdateConsentResponse> UpdateConsent(const v1::UpdateConsentRequest& r) override {
    updates.push_back(r);
    return v1::UpdateConsentResponse();
  }
  absl::StatusOr<v1::ListConsentHistoryResponse> ListConsentHistory(const v1::ListConsentHistoryRequest&) override {
    return v1::ListConsentHistoryResponse();
  }
  absl::StatusOr<v1::ProfileView> GetProfile(const v1::GetProfileRequest& r) override {
    reads.push_back(r);
    auto it = people_.find(r.profile_id());
    if (it == people_.end()) return absl::NotFoundError("profile_id: no such profile");
    v1::ProfileView v;
    v.set_profile_id(r.profile_id());
    for (const auto& [k, val] : it->second) (*v.mutable_fields())[k] = val;
    return v;
  }
  absl::StatusOr<v1::SearchProfilesResponse> SearchProfiles(const v1::SearchProfilesRequest& r) override {
    searches.push_back(r);
    v1::SearchProfilesResponse out;
    for (const auto& [id, fields] : people_) {
      if (fields.at("email") == r.email()) {
        v1::ProfileView* v = out.add_profiles();
        v->set_profile_id(id);
      }
    }
    return out;
  }
  absl::StatusOr<v1::ListAccessEventsResponse> ListAccessEvents(const v1::ListAccessEventsRequest&) override {
    return v1::ListAccessEventsResponse();
  }
  absl::StatusOr<v1::SignedTreeHead> GetSignedTreeHead() override { return absl::UnavailableError("no log"); }
  absl::StatusOr<v1::InclusionProof> GetInclusionProof(int64_t, int64_t) override {
    return absl::UnavailableError("no log");
  }
  absl::StatusOr<v1::ExportMyDataResponse> ExportMyData(const v1::ExportMyDataRequest& r) override {
    v1::ExportMyDataResponse out;
    out.set_json(absl::StrCat("{\"customer_id\": \"", r.customer_id(), "\"}"));
    out.set_html("<html></html>");
    exports.push_back(r);
    return out;
  }
  absl::StatusOr<v1::RestrictProcessingResponse> RestrictProcessing(const v1::RestrictProcessingRequest& r) override {
    restrictions.push_back(r);
    return v1::RestrictProcessingResponse();
  }
  absl::StatusOr<v1::EraseCustomerResponse> EraseCustomer(const v1::EraseCustomerRequest& r) override {
    erasures.push_back(r);
    v1::EraseCustomerResponse out;
    out.set_receipt_json(
        "{\"receiptType\":\"erasure (GDPR Art. 17)\",\"kept\":[{\"purpose\":\"legal-retention\","
        "\"fields\":[\"family_name\",\"customer_number\"],\"keptUntil\":\"2032-10-09T08:53:23Z\"}]}");
    out.set_receipt_signature("eyJhbGciOiJFZERTQSJ9.e30.c2ln");
    return out;
  }
  absl::StatusOr<v1::ListAccessEventsResponse> QueryAccessEvents(const v1::QueryAccessEventsRequest& r) override {
    queries.push_back(r);
    return v1::ListAccessEventsResponse();
  }
  absl::Status ExportAccessEvents(const v1::QueryAccessEventsRequest&,
                                  const std::function<bool(const std::string&)>& write) override {
    write("position\n");
    return absl::OkStatus();
  }
  absl::StatusOr<v1::VerifyLogResponse> VerifyLog() override { return v1::VerifyLogResponse(); }
  absl::StatusOr<v1::UnusualAccessReport> UnusualAccess(const v1::UnusualAccessRequest&) override {
    return v1::UnusualAccessReport();
  }

  std::vector<v1::GetProfileRequest> reads;
  std::vector<v1::SearchProfilesRequest> searches;
  std::vector<v1::UpdateConsentRequest> updates;
  std::vector<v1::QueryAccessEventsRequest> queries;
  std::vector<v1::ExportMyDataRequest> exports;
  std::vector<v1::RestrictProcessingRequest> restrictions;
  std::vector<v1::EraseCustomerRequest> erasures;

 private:
  v1::Catalog catalog_;
  std::map<std::string, std::map<std::string, std::string>> people_;
};

class FakeMailer : public Mailer {
 public:
  absl::Status Send(const MailMessage& m) override {
    sent.push_back(m);
    return absl::OkStatus();
  }
  std::vector<MailMessage> sent;
};

// A browser: keeps cookies, follows nothing by itself.
class Browser {
 public:
  explicit Browser(HttpsServer& server) : server_(server) {}
  HttpResponse Get(const std::string& target) { return Send("GET", target, ""); }
  HttpResponse Post(const std::string& path, const std::string& body) { return Send("POST", path, body); }
  // The CSRF token of the first form on `page`.
  static std::string Csrf(const HttpResponse& page) {
    std::smatch m;
    std::regex re("name=\"csrf\" value=\"([^\"]*)\"");
    return std::regex_search(page.body, m, re) ? m[1].str() : "";
  }
  static std::string Header(const HttpResponse& r, const std::string& name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return "";
  }
  std::map<std::string, std::string> cookies;

 private:
  HttpResponse Send(const std::string& method, const std::string& target, const std::string& body) {
    HttpRequest req;
    req.method = method;
    size_t q = target.find('?');
    req.path = target.substr(0, q);
    if (q != std::string::npos) req.query = target.substr(q + 1);
    req.body = body;
    req.peer = "192.0.2.1";
    std::string header;
    for (const auto& [k, v] : cookies) absl::StrAppend(&header, header.empty() ? "" : "; ", k, "=", v);
    req.headers["cookie"] = header;
    HttpResponse r = server_.Dispatch(req);
    for (const auto& [k, v] : r.headers) {
      if (k != "Set-Cookie") continue;
      const std::string pair = v.substr(0, v.find(';'));
      const std::string name = pair.substr(0, pair.find('='));
      const std::string value = pair.substr(pair.find('=') + 1);
      if (absl::StrContains(v, "Max-Age=0")) cookies.erase(name);
      else cookies[name] = value;
    }
    return r;
  }
  HttpsServer& server_;
};

class PortalAppTest : public ::testing::Test {
 protected:
  PortalAppTest()
      : server_({.listen = "127.0.0.1:0"}),
        app_({.public_url = "https://portal.test", .log_public_key_pem = "", .sign_ins_per_subject = 3},
             store_, platform_, mailer_, [this] { return now_; }) {
    app_.Register(server_);
  }

  // Asks for a link for `email` and returns the link's path and query, or "" if no mail.
  std::string AskForLink(Browser& b, const std::string& email) {
    const size_t before = mailer_.sent.size();
    HttpResponse home = b.Get("/");
    HttpResponse sent = b.Post("/signin", "csrf=" + UrlEncode(Browser::Csrf(home)) + "&email=" + UrlEncode(email));
    EXPECT_EQ(sent.status, 200) << sent.body;
    if (mailer_.sent.size() == before) return "";
    std::smatch m;
    std::regex re("https://portal\\.test(/signin/link\\?token=[A-Za-z0-9_-]+)");
    return std::regex_search(mailer_.sent.back().text, m, re) ? m[1].str() : "";
  }

  // Follows a link through its confirmation page; the response of the button.
  HttpResponse UseLink(Browser& b, const std::string& link) {
    HttpResponse page = b.Get(link);
    const std::string token = link.substr(link.find("token=") + 6);
    return b.Post("/signin/link", "csrf=" + UrlEncode(Browser::Csrf(page)) + "&token=" + token);
  }

  void SignIn(Browser& b, const std::string& email) {
    HttpResponse r = UseLink(b, AskForLink(b, email));
    ASSERT_EQ(r.status, 303) << r.body;
    ASSERT_EQ(Browser::Header(r, "Location"), "/my");
  }

  absl::Time now_ = absl::FromUnixSeconds(1790000000);
  FakeStore store_;
  FakePlatform platform_;
  FakeMailer mailer_;
  HttpsServer server_;
  PortalApp app_;
};

TEST_F(PortalAppTest, SignInAnswersAlikeForKnownAndUnknownAddressesAndMailsOnlyTheKnown) {
  Browser b(server_);
  HttpResponse home = b.Get("/");
  HttpResponse known = b.Post("/signin", "csrf=" + UrlEncode(Browser::Csrf(home)) + "&email=anna%40example.nl");
  HttpResponse unknown = b.Post("/signin", "csrf=" + UrlEncode(Browser::Csrf(home)) + "&email=nobody%40example.nl");
  EXPECT_EQ(known.status, unknown.status);
  EXPECT_EQ(known.body, unknown.body);
  ASSERT_EQ(mailer_.sent.size(), 1u);
  EXPECT_EQ(mailer_.sent[0].to, "anna@example.nl");
  // The lookup is the platform's logged search, under the self-service purpose.
  ASSERT_EQ(platform_.searches.size(), 2u);
  EXPECT_EQ(platform_.searches[0].context().purpose(), "data-subject-access");
}

TEST_F(PortalAppTest, ALinkSignsInOnceAndOnlyBeforeItExpires) {
  Browser b(server_);
  const std::string link = AskForLink(b, "anna@example.nl");
  ASSERT_FALSE(link.empty());
  // Opening the link alone (as a mail scanner does) does not use it.
  EXPECT_EQ(b.Get(link).status, 200);
  EXPECT_EQ(b.Get(link).status, 200);
  EXPECT_EQ(UseLink(b, link).status, 303);
  Browser other(server_);
  HttpResponse again = UseLink(other, link);
  EXPECT_EQ(again.status, 400);
  EXPECT_THAT(again.body, HasSubstr("werkt niet meer"));

  Browser third(server_);
  const std::string late = AskForLink(third, "anna@example.nl");
  ASSERT_FALSE(late.empty());
  now_ += absl::Minutes(16);
  EXPECT_EQ(UseLink(third, late).status, 400);
}

TEST_F(PortalAppTest, SessionsEndAfterTheirTime) {
  Browser b(server_);
  SignIn(b, "anna@example.nl");
  EXPECT_EQ(b.Get("/my").status, 200);
  now_ += absl::Minutes(31);
  HttpResponse r = b.Get("/my");
  EXPECT_EQ(r.status, 303);
  EXPECT_EQ(Browser::Header(r, "Location"), "/");
}

TEST_F(PortalAppTest, SessionCookieIsHostOnlyHttpOnlySecureAndStrict) {
  Browser b(server_);
  HttpResponse r = UseLink(b, AskForLink(b, "anna@example.nl"));
  const std::string cookie = Browser::Header(r, "Set-Cookie");
  EXPECT_THAT(cookie, HasSubstr("__Host-cdp_session="));
  EXPECT_THAT(cookie, HasSubstr("; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=1800"));
}

TEST_F(PortalAppTest, FormsWithoutTheirTokenAreRefusedAndChangeNothing) {
  Browser b(server_);
  SignIn(b, "anna@example.nl");
  EXPECT_EQ(b.Post("/my/choices", "allow=fraud-prevention%2Femail&version=0&key=k").status, 403);
  EXPECT_EQ(b.Post("/my/choices", "csrf=wrong&allow=fraud-prevention%2Femail").status, 403);
  EXPECT_TRUE(platform_.updates.empty());
  // Before signing in too: a sign-in form from another site carries no valid token.
  Browser fresh(server_);
  EXPECT_EQ(fresh.Post("/signin", "email=anna%40example.nl").status, 403);
  EXPECT_EQ(fresh.Post("/signin", "csrf=x&email=anna%40example.nl").status, 403);
}

TEST_F(PortalAppTest, ACustomerReachesOnlyTheirOwnData) {
  Browser b(server_);
  SignIn(b, "anna@example.nl");
  HttpResponse other = b.Get("/api/customers/p-kees/data.json");
  EXPECT_EQ(other.status, 403);
  EXPECT_THAT(other.body, Not(HasSubstr("Kees")));
  EXPECT_EQ(b.Get("/api/customers/p-kees/receipts/r1.jws").status, 403);
  HttpResponse page = b.Get("/my/data?customer=p-kees&profile_id=p-kees");
  EXPECT_THAT(page.body, Not(HasSubstr("Kees")));
  for (const auto& read : platform_.reads) EXPECT_EQ(read.profile_id(), "p-anna");
  // The customer's own read names no customer id as the acting party (the log keeps only
  // pseudonyms).
  ASSERT_FALSE(platform_.reads.empty());
  EXPECT_EQ(platform_.reads[0].context().acting_party().kind(), v1::ActingParty::DATA_SUBJECT);
  EXPECT_EQ(platform_.reads[0].context().acting_party().id(), "self");
  HttpResponse own = b.Get("/api/customers/p-anna/data.json");
  EXPECT_EQ(own.status, 200);
  EXPECT_THAT(own.body, HasSubstr("p-anna"));
  for (const auto& e : platform_.exports) EXPECT_EQ(e.customer_id(), "p-anna");
}

TEST_F(PortalAppTest, ErasingNeedsConfirmationThenSignsOutAndShowsTheSignedProof) {
  Browser b(server_);
  SignIn(b, "anna@example.nl");
  HttpResponse page = b.Get("/my/erase");
  ASSERT_EQ(page.status, 200);
  EXPECT_THAT(page.body, HasSubstr("name=\"confirm\""));
  // Without the tick: nothing happens, and the page says why.
  HttpResponse unconfirmed = b.Post("/my/erase", "csrf=" + UrlEncode(Browser::Csrf(page)));
  EXPECT_EQ(unconfirmed.status, 400);
  EXPECT_THAT(unconfirmed.body, HasSubstr("Er is niets gewist"));
  EXPECT_TRUE(platform_.erasures.empty());

  HttpResponse done = b.Post("/my/erase", "csrf=" + UrlEncode(Browser::Csrf(page)) + "&confirm=yes");
  ASSERT_EQ(done.status, 200) << done.body;
  ASSERT_EQ(platform_.erasures.size(), 1u);
  EXPECT_EQ(platform_.erasures[0].customer_id(), "p-anna");
  EXPECT_EQ(platform_.erasures[0].channel(), v1::PORTAL);
  EXPECT_EQ(platform_.erasures[0].acting_party().kind(), v1::ActingParty::DATA_SUBJECT);
  EXPECT_THAT(done.body, HasSubstr("Uw gegevens zijn gewist"));
  EXPECT_THAT(done.body, HasSubstr("9 oktober 2032"));  // what the law keeps, until when
  EXPECT_THAT(done.body, HasSubstr("download=\"erasure-receipt.jws\""));
  // Signed out, and the session is gone from the store, not only from the browser.
  EXPECT_THAT(Browser::Header(done, "Set-Cookie"), HasSubstr("Max-Age=0"));
  EXPECT_EQ(b.Get("/my").status, 303);
  EXPECT_EQ(store_.DeleteCustomer("p-anna").value_or(-1), 0);
}

TEST_F(PortalAppTest, ValuesAreEscapedAndPagesCarryAStrictPolicy) {
  Browser b(server_);
  SignIn(b, "anna@example.nl");
  HttpResponse page = b.Get("/my/data");
  ASSERT_EQ(page.status, 200);
  EXPECT_THAT(page.body, HasSubstr("Anna &lt;b&gt;"));
  EXPECT_THAT(page.body, Not(HasSubstr("Anna <b>")));
  EXPECT_THAT(Browser::Header(page, "Content-Security-Policy"), HasSubstr("default-src 'none'"));
  EXPECT_EQ(Browser::Header(page, "Cache-Control"), "no-store");
  EXPECT_EQ(Browser::Header(page, "Referrer-Policy"), "no-referrer");
}

TEST_F(PortalAppTest, SignInRequestsAreLimitedPerAddress) {
  Browser b(server_);
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(AskForLink(b, "anna@example.nl").empty());
  EXPECT_TRUE(AskForLink(b, "anna@example.nl").empty()) << "the fourth in an hour sends nothing";
  now_ += absl::Minutes(61);
  EXPECT_FALSE(AskForLink(b, "anna@example.nl").empty());
}

TEST_F(PortalAppTest, AuditorsNeedPasswordAndCodeAndTheirLooksNameThem) {
  const std::string secret = "12345678901234567890";
  ASSERT_TRUE(store_.AddAuditor({.name = "dpo", .display_name = "DPO",
                                 .password_argon2id = *HashPassword("a long passphrase"), .totp_secret = secret},
                                now_).ok());
  Browser b(server_);
  auto attempt = [&](const std::string& password, const std::string& code) {
    HttpResponse form = b.Get("/audit/signin");
    return b.Post("/audit/signin", absl::StrCat("csrf=", UrlEncode(Browser::Csrf(form)), "&name=dpo&password=",
                                                UrlEncode(password), "&code=", code));
  };
  EXPECT_EQ(attempt("wrong", TotpCode(secret, now_)).status, 401);
  EXPECT_EQ(attempt("a long passphrase", "000000").status, 401);
  HttpResponse ok = attempt("a long passphrase", TotpCode(secret, now_));
  ASSERT_EQ(ok.status, 303) << ok.body;
  // The same code does not sign in twice.
  Browser replay(server_);
  HttpResponse form = replay.Get("/audit/signin");
  EXPECT_EQ(replay.Post("/audit/signin", absl::StrCat("csrf=", UrlEncode(Browser::Csrf(form)),
                                                      "&name=dpo&password=a%20long%20passphrase&code=",
                                                      TotpCode(secret, now_))).status,
            401);
  // A search without a reason shows nothing and asks for one.
  EXPECT_THAT(b.Get("/audit?caller=x").body, HasSubstr("Kies waarom u kijkt"));
  EXPECT_TRUE(platform_.queries.empty());
  EXPECT_EQ(b.Get("/audit?why=legal_request&ref=case-1").status, 200);
  ASSERT_EQ(platform_.queries.size(), 1u);
  EXPECT_EQ(platform_.queries[0].acting_party().id(), "auditor:dpo");
  EXPECT_EQ(platform_.queries[0].justification().code(), v1::Justification::LEGAL_REQUEST);
  // Auditors are not customers.
  EXPECT_EQ(b.Get("/my/data").status, 303);
}

TEST_F(PortalAppTest, LanguageSwitchRedirectsOnlyWithinTheSite) {
  Browser b(server_);
  HttpResponse r = b.Get("/lang?to=en&back=%2F%2Fevil.example%2F");
  EXPECT_EQ(Browser::Header(r, "Location"), "/");
  EXPECT_EQ(b.cookies["cdp_lang"], "en");
  EXPECT_THAT(b.Get("/").body, HasSubstr("<html lang=\"en\""));
}

}  // namespace
}  // namespace cdp::portal
