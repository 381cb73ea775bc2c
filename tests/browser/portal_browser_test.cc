// Runs the browser tests of the portal (tests/browser/portal.test.mjs: playwright-core
// driving Debian's headless chromium) against the whole platform, every part real:
// cdp-consent, cdp-ingest, cdp-audit, cdp-profile and cdp-portal on one PostgreSQL server,
// mTLS between them. This harness starts the services, loads two customers, makes an
// auditor account with a one-time-code secret, and hands the script what it needs in its
// environment. Screenshots land in <build>/browser-output/.
#include <unistd.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cdp/v1/ingest.grpc.pb.h"
#include "cdp/v1/profile.grpc.pb.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/client.h"
#include "services/common/proto_time.h"
#include "services/portal/auth.h"
#include "services/portal/pg_portal_store.h"
#include "storage/pool.h"
#include "tests/testing/http_client.h"
#include "tests/testing/platform.h"
#include "tests/testing/status_matchers.h"

namespace cdp {
namespace {

using ::cdp::testing::IsOk;

class PortalBrowserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CDP_REQUIRE_PG();
    pki_ = std::make_unique<testing::TestPki>(std::vector<std::string>{
        "service/consent", "service/ingest", "service/audit", "service/profile", "service/portal",
        "service/rights", "service/support-desk", "operator/cdpctl", "auditor/console"});
    db_ = std::make_unique<testing::TestDatabase>();
    consent_ = Start("consent", {}, false);
    audit_ = Start("audit", {"--sign_interval=100ms"}, false);
    ingest_ = Start("ingest", {absl::StrCat("--consent_target=127.0.0.1:", consent_.port)}, false);
    profile_ = Start("profile", {absl::StrCat("--consent_target=127.0.0.1:", consent_.port),
                                 absl::StrCat("--ingest_target=127.0.0.1:", ingest_.port),
                                 absl::StrCat("--audit_target=127.0.0.1:", audit_.port)},
                     false);
    rights_ = Start("rights", {absl::StrCat("--consent_target=127.0.0.1:", consent_.port),
                               absl::StrCat("--profile_target=127.0.0.1:", profile_.port),
                               absl::StrCat("--audit_target=127.0.0.1:", audit_.port),
                               absl::StrCat("--ingest_target=127.0.0.1:", ingest_.port)},
                    false);
    outbox_ = testing::MakeTempDir() + "/outbox";
    portal_ = Start("portal",
                    {absl::StrCat("--consent_target=127.0.0.1:", consent_.port),
                     absl::StrCat("--profile_target=127.0.0.1:", profile_.port),
                     absl::StrCat("--audit_target=127.0.0.1:", audit_.port),
                     absl::StrCat("--rights_target=127.0.0.1:", rights_.port), "--outbox_dir=" + outbox_,
                     "--console_tls_cert=" + pki_->dir() + "/auditor-console.crt",
                     "--console_tls_key=" + pki_->dir() + "/auditor-console.key"},
                    true);
  }

  // The portal answers HTTPS, not gRPC health: the test waits for its /healthz instead.
  testing::RunningService Start(const std::string& name, std::vector<std::string> extra, bool https) {
    auto r = https ? testing::StartService(name, *pki_, *db_, extra) : testing::StartServing(name, *pki_, *db_, extra);
    EXPECT_THAT(r.status(), IsOk());
    return r.ok() ? *std::move(r) : testing::RunningService{};
  }

  // One CRM record per customer; returns their profile ids.
  std::vector<std::string> Ingest(const std::vector<std::map<std::string, std::string>>& people) {
    auto stub = v1::IngestService::NewStub(pki_->Channel(ingest_.port, "operator/cdpctl"));
    grpc::ClientContext ctx;
    auto stream = stub->WriteRecords(&ctx);
    v1::WriteRecordsRequest req;
    int n = 0;
    for (const auto& attributes : people) {
      auto* r = req.add_records();
      r->set_source_system("crm");
      r->set_record_id(absl::StrCat("c", ++n));
      *r->mutable_changed_at() = ToProtoTime(absl::FromUnixSeconds(1760000000));
      for (const auto& [k, v] : attributes) (*r->mutable_attributes())[k] = v;
    }
    v1::WriteRecordsResponse resp;
    EXPECT_TRUE(stream->Write(req) && stream->Read(&resp));
    stream->WritesDone();
    EXPECT_TRUE(stream->Finish().ok());
    std::vector<std::string> ids;
    for (const auto& ack : resp.acks()) ids.push_back(ack.profile_id());
    return ids;
  }

  std::unique_ptr<testing::TestPki> pki_;
  std::unique_ptr<testing::TestDatabase> db_;
  testing::RunningService consent_, audit_, ingest_, profile_, rights_, portal_;
  std::string outbox_;
};

TEST_F(PortalBrowserTest, CustomersAndAuditorsInARealBrowser) {
  const std::string modules = std::string(CDP_SOURCE_DIR) + "/tests/browser/node_modules/playwright-core";
  ASSERT_EQ(access(modules.c_str(), R_OK), 0)
      << "playwright-core is not installed: tests/run.sh installs it (npm ci in tests/browser)";
  ASSERT_EQ(access("/usr/bin/chromium", X_OK), 0) << "chromium is not installed: tests/run.sh installs it";
  const std::vector<std::string> ids =
      Ingest({{{"given_name", "Sanne"}, {"family_name", "de Vries"}, {"email", "sanne.devries@example.nl"},
               {"phone_mobile", "06-12345678"}, {"date_of_birth", "1985-02-14"}, {"street", "Dorpsstraat"},
               {"house_number", "12"}, {"postcode", "1234 AB"}, {"city", "Utrecht"}},
              {{"given_name", "Kees"}, {"family_name", "Jansen"}, {"email", "kees.jansen@example.nl"},
               {"date_of_birth", "1970-07-01"}},
              {{"given_name", "Ria"}, {"family_name", "Vermeulen"}, {"email", "ria.vermeulen@example.nl"},
               {"date_of_birth", "1958-12-30"}}});
  ASSERT_EQ(ids.size(), 3u);

  // New profiles reach consent and the profile service's replica a moment after they are
  // made: wait until both customers can be read.
  for (const std::string& id : ids) {
    auto stub = v1::ProfileService::NewStub(pki_->Channel(profile_.port, "service/support-desk"));
    grpc::Status s;
    for (absl::Time end = absl::Now() + absl::Seconds(30); absl::Now() < end;) {
      v1::GetProfileRequest req;
      req.set_profile_id(id);
      req.mutable_context()->set_purpose("customer-care-human");
      req.mutable_context()->mutable_read_mask()->add_paths("given_name");
      req.mutable_context()->mutable_acting_party()->set_kind(v1::ActingParty::HUMAN_AGENT);
      req.mutable_context()->mutable_acting_party()->set_id("agent-1");
      req.mutable_context()->mutable_justification()->set_code(v1::Justification::CUSTOMER_REQUEST);
      req.mutable_context()->mutable_justification()->set_reference("ticket-1");
      grpc::ClientContext ctx;
      v1::ProfileView view;
      s = stub->GetProfile(&ctx, req, &view);
      if (s.error_code() != grpc::StatusCode::UNAVAILABLE) break;
      absl::Notification().WaitForNotificationWithTimeout(absl::Milliseconds(20));
    }
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  // The portal is up once its database is: wait for /healthz.
  bool healthy = false;
  for (absl::Time end = absl::Now() + absl::Seconds(60); !healthy && absl::Now() < end;) {
    auto h = testing::HttpsGet(portal_.port, "/healthz", pki_->dir() + "/ca.crt");
    healthy = h.ok() && h->status == 200;
    if (!healthy) portal_.process->WaitForExit(absl::Milliseconds(100)).IgnoreError();
  }
  ASSERT_TRUE(healthy) << portal_.process->Output();

  // An auditor with a password and a one-time-code secret, as `cdpctl auditor add` makes.
  const std::string totp_secret = "12345678901234567890";
  {
    storage::Pool pool({.dsn = db_->DsnAs("cdp_portal"), .size = 1, .statements = portal::PgPortalStore::Statements()});
    ASSERT_THAT(pool.Connect(), IsOk());
    portal::PgPortalStore store(pool);
    portal::Auditor auditor{.name = "inspector", .display_name = "Inspector",
                            .password_argon2id = *portal::HashPassword("correct horse battery staple"),
                            .totp_secret = totp_secret};
    ASSERT_THAT(store.AddAuditor(auditor, absl::Now()), IsOk());
  }

  const std::string out = std::string(CDP_BINARY_DIR) + "/browser-output";
  const std::vector<std::pair<std::string, std::string>> env = {
      {"PORTAL_URL", absl::StrCat("https://localhost:", portal_.port)},
      {"OUTBOX_DIR", outbox_},
      {"CUSTOMER_EMAIL", "sanne.devries@example.nl"},
      {"CUSTOMER_ID", ids[0]},
      {"OTHER_CUSTOMER_ID", ids[1]},
      {"ERASE_EMAIL", "ria.vermeulen@example.nl"},
      {"OTHER_CUSTOMER_EMAIL", "kees.jansen@example.nl"},
      {"RIGHTS_TARGET", absl::StrCat("127.0.0.1:", rights_.port)},
      {"CDPCTL", std::string(CDP_BINARY_DIR) + "/tools/cdpctl/cdpctl"},
      {"PKI_DIR", pki_->dir()},
      {"PROFILE_TARGET", absl::StrCat("127.0.0.1:", profile_.port)},
      {"AUDITOR_NAME", "inspector"},
      {"AUDITOR_PASSWORD", "correct horse battery staple"},
      {"AUDITOR_TOTP_SECRET_BASE32", portal::Base32(totp_secret)},
      {"SCREENSHOT_DIR", out},
      {"CHROMIUM", "/usr/bin/chromium"},
  };
  for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
  auto run = testing::RunToCompletion(
      "/usr/bin/node",
      {"--test", "--test-reporter=spec", std::string(CDP_SOURCE_DIR) + "/tests/browser/portal.test.mjs"},
      absl::Minutes(8));
  ASSERT_THAT(run.status(), IsOk());
  EXPECT_EQ(run->exit_code, 0) << run->output << "\n--- portal log:\n" << portal_.process->Output();
  std::printf("%s\n", run->output.c_str());
}

}  // namespace
}  // namespace cdp
