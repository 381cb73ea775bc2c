// End to end: the real service binaries over real mTLS on loopback, against the real
// PostgreSQL server of tests/run.sh.
#include <signal.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cdp/v1/consent.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "services/common/client.h"
#include "services/common/tls.h"
#include "tests/testing/http_client.h"
#include "tests/testing/platform.h"
#include "tests/testing/process.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_database.h"

namespace cdp {
namespace {

using ::cdp::testing::ChildProcess;
using ::cdp::testing::IsOk;
using ::cdp::testing::StatusIs;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kBin = CDP_BINARY_DIR;
const std::string kSrc = CDP_SOURCE_DIR;

struct ServiceBinary {
  std::string name;
  std::string full_name;
  std::string path;
};

const std::vector<ServiceBinary>& GrpcServices() {
  static const auto* services = new std::vector<ServiceBinary>{
      {"consent", "cdp.v1.ConsentService", kBin + "/services/cdp-consent"},
      {"ingest", "cdp.v1.IngestService", kBin + "/services/cdp-ingest"},
      {"audit", "cdp.v1.AuditService", kBin + "/services/cdp-audit"},
      {"rights", "cdp.v1.RightsService", kBin + "/services/cdp-rights"},
      // Last: it needs the consent, ingest and audit services above.
      {"profile", "cdp.v1.ProfileService", kBin + "/services/cdp-profile"},
  };
  return *services;
}

class ServiceSkeletonTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = new testing::TestPki({"service/consent", "service/ingest", "service/profile",
                                 "service/audit", "service/rights", "service/portal",
                                 "service/support-desk"});
  }
  static void TearDownTestSuite() { delete pki_; }
  void SetUp() override {
    CDP_REQUIRE_PG();
    db_ = std::make_unique<testing::TestDatabase>();
  }

  using Running = testing::RunningService;

  Running Start(const std::string& name, std::vector<std::string> extra = {}) {
    auto r = testing::StartService(name, *pki_, *db_, extra);
    EXPECT_THAT(r.status(), IsOk());
    return r.ok() ? *std::move(r) : Running{};
  }

  std::shared_ptr<grpc::Channel> Channel(int port, const std::string& identity = "service-support-desk",
                                         bool rogue = false) {
    return pki_->Channel(port, identity, rogue);
  }

  static testing::TestPki* pki_;
  std::unique_ptr<testing::TestDatabase> db_;
};

testing::TestPki* ServiceSkeletonTest::pki_ = nullptr;

TEST_F(ServiceSkeletonTest, EveryServiceIsServingAndListsItsServiceThroughReflection) {
  std::vector<Running> running;
  for (const ServiceBinary& s : GrpcServices()) {
    std::vector<std::string> extra;
    if (s.name == "profile") {
      extra = {absl::StrCat("--consent_target=127.0.0.1:", running[0].port),
               absl::StrCat("--ingest_target=127.0.0.1:", running[1].port),
               absl::StrCat("--audit_target=127.0.0.1:", running[2].port)};
    }
    running.push_back(Start(s.name, extra));
  }
  for (size_t i = 0; i < running.size(); ++i) {
    const ServiceBinary& s = GrpcServices()[i];
    auto channel = Channel(running[i].port);
    ASSERT_THAT(rpc::WaitUntilServing(*channel, s.full_name, absl::Seconds(60)), IsOk())
        << s.name << " output:\n" << running[i].process->Output();
    auto names = rpc::ListServices(*channel, absl::Seconds(10));
    ASSERT_THAT(names, IsOk());
    EXPECT_THAT(*names, Contains(s.full_name)) << s.name;
  }
  // Graceful drain: SIGTERM ends each service with status 0.
  for (size_t i = 0; i < running.size(); ++i) {
    running[i].process->Signal(SIGTERM);
    EXPECT_THAT(running[i].process->WaitForExit(absl::Seconds(20)), testing::IsOkAndHolds(0))
        << GrpcServices()[i].name;
    EXPECT_THAT(running[i].process->Output(), HasSubstr("\"event\":\"stopped\""));
  }
}

TEST_F(ServiceSkeletonTest, RefusesClientsWithoutTheRightCertificate) {
  Running consent = Start("consent");
  ASSERT_THAT(rpc::WaitUntilServing(*Channel(consent.port), "", absl::Seconds(60)), IsOk());
  std::string target = absl::StrCat("127.0.0.1:", consent.port);

  // No client certificate at all: the server's handshake requires one.
  grpc::SslCredentialsOptions no_cert;
  no_cert.pem_root_certs = testing::ReadFileOrDie(pki_->dir() + "/ca.crt");
  auto anonymous = grpc::CreateChannel(target, grpc::SslCredentials(no_cert));
  EXPECT_THAT(rpc::CheckHealth(*anonymous, "", absl::Seconds(5)),
              StatusIs(absl::StatusCode::kUnavailable));

  // A certificate with the right URI SAN, signed by another CA.
  auto rogue = Channel(consent.port, "service-support-desk", /*rogue=*/true);
  EXPECT_THAT(rpc::CheckHealth(*rogue, "", absl::Seconds(5)),
              StatusIs(absl::StatusCode::kUnavailable));

  // Plaintext HTTP/2 to the TLS port gets nothing.
  auto plaintext = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  EXPECT_THAT(rpc::CheckHealth(*plaintext, "", absl::Seconds(5)),
              StatusIs(absl::StatusCode::kUnavailable));

  // Control: the same call with a proper certificate works.
  EXPECT_THAT(rpc::CheckHealth(*Channel(consent.port), "", absl::Seconds(5)), IsOk());
}

TEST_F(ServiceSkeletonTest, CallerIdentityComesFromTheCertificateAndReachesMetrics) {
  Running consent = Start("consent");
  auto channel = Channel(consent.port, "service-support-desk");
  ASSERT_THAT(rpc::WaitUntilServing(*channel, "", absl::Seconds(60)), IsOk());
  auto stub = v1::ConsentService::NewStub(channel);
  grpc::ClientContext ctx;
  v1::Catalog catalog;
  ASSERT_TRUE(stub->GetCatalog(&ctx, v1::GetCatalogRequest(), &catalog).ok());

  auto metrics = testing::HttpGet(consent.metrics_port, "/metrics");
  ASSERT_THAT(metrics, IsOk());
  EXPECT_EQ(metrics->status, 200);
  EXPECT_THAT(metrics->body,
              HasSubstr("cdp_grpc_server_handled_total{caller=\"spiffe://cdp.local/service/"
                        "support-desk\",code=\"OK\",method=\"/cdp.v1.ConsentService/"
                        "GetCatalog\"} 1"));
  EXPECT_THAT(metrics->body, HasSubstr("cdp_grpc_server_handling_seconds_bucket"));
}

TEST_F(ServiceSkeletonTest, NotServingWhileTheDatabaseIsUnreachable) {
  Running consent = Start("consent",
                          {"--db_dsn=host=127.0.0.1 port=1 connect_timeout=1",
                           "--db_admin_dsn=host=127.0.0.1 port=1 connect_timeout=1"});
  auto channel = Channel(consent.port);
  EXPECT_THAT(rpc::WaitUntilServing(*channel, "", absl::Seconds(3)),
              StatusIs(absl::StatusCode::kDeadlineExceeded, HasSubstr("NOT_SERVING")));
  EXPECT_THAT(consent.process->Output(), HasSubstr("database_not_ready"));
  consent.process->Signal(SIGTERM);
  EXPECT_THAT(consent.process->WaitForExit(absl::Seconds(20)), testing::IsOkAndHolds(0));
}

TEST_F(ServiceSkeletonTest, PortalAnswersHealthzOverHttps) {
  Running portal = Start("portal");
  absl::StatusOr<testing::HttpResult> health;
  // Poll until the database is connected: the portal answers 503 until then.
  for (absl::Time end = absl::Now() + absl::Seconds(60); absl::Now() < end;) {
    health = testing::HttpsGet(portal.port, "/healthz", pki_->dir() + "/ca.crt");
    if (health.ok() && health->status == 200) break;
    portal.process->WaitForExit(absl::Milliseconds(100)).IgnoreError();
  }
  ASSERT_THAT(health, IsOk()) << portal.process->Output();
  EXPECT_EQ(health->status, 200);
  EXPECT_THAT(health->body, HasSubstr("SERVING"));
  auto missing = testing::HttpsGet(portal.port, "/nope", pki_->dir() + "/ca.crt");
  ASSERT_THAT(missing, IsOk());
  EXPECT_EQ(missing->status, 404);
  // A client that does not trust the platform's CA cannot complete the handshake.
  EXPECT_THAT(testing::HttpsGet(portal.port, "/healthz", pki_->rogue_dir() + "/ca.crt"),
              StatusIs(absl::StatusCode::kUnavailable));
}

TEST_F(ServiceSkeletonTest, BadConfigurationExitsTwoWithOneLineNamingIt) {
  const std::string& bin = GrpcServices()[0].path;
  auto unknown = testing::RunToCompletion(bin, {"--no_such_flag=1"}, absl::Seconds(20));
  ASSERT_THAT(unknown, IsOk());
  EXPECT_EQ(unknown->exit_code, 2);
  EXPECT_THAT(unknown->output, HasSubstr("--no_such_flag"));
  EXPECT_EQ(std::count(unknown->output.begin(), unknown->output.end(), '\n'), 1) << unknown->output;

  auto unreadable = testing::RunToCompletion(
      bin,
      {"--tls_cert=/nonexistent/cert.pem", "--tls_key=" + pki_->dir() + "/service-consent.key",
       "--tls_ca=" + pki_->dir() + "/ca.crt", "--db_dsn=host=/tmp"},
      absl::Seconds(20));
  ASSERT_THAT(unreadable, IsOk());
  EXPECT_EQ(unreadable->exit_code, 2);
  EXPECT_THAT(unreadable->output, HasSubstr("--tls_cert /nonexistent/cert.pem: cannot read"));
  EXPECT_EQ(std::count(unreadable->output.begin(), unreadable->output.end(), '\n'), 1);

  auto mismatched = testing::RunToCompletion(
      bin,
      {"--tls_cert=" + pki_->dir() + "/service-consent.crt",
       "--tls_key=" + pki_->dir() + "/service-audit.key", "--tls_ca=" + pki_->dir() + "/ca.crt",
       "--db_dsn=host=/tmp"},
      absl::Seconds(20));
  ASSERT_THAT(mismatched, IsOk());
  EXPECT_EQ(mismatched->exit_code, 2);
  EXPECT_THAT(mismatched->output, HasSubstr("does not match"));

  auto help = testing::RunToCompletion(bin, {"--help"}, absl::Seconds(20));
  ASSERT_THAT(help, IsOk());
  EXPECT_EQ(help->exit_code, 0);
  EXPECT_THAT(help->output, HasSubstr("--db_dsn"));
  EXPECT_THAT(help->output, HasSubstr("CDP_<NAME>"));

  // The consent service cannot start without its catalog; a broken one is named by line.
  const std::vector<std::string> tls = {"--tls_cert=" + pki_->dir() + "/service-consent.crt",
                                        "--tls_key=" + pki_->dir() + "/service-consent.key",
                                        "--tls_ca=" + pki_->dir() + "/ca.crt", "--db_dsn=host=/tmp"};
  auto no_catalog = testing::RunToCompletion(bin, tls, absl::Seconds(20));
  ASSERT_THAT(no_catalog, IsOk());
  EXPECT_EQ(no_catalog->exit_code, 2);
  EXPECT_THAT(no_catalog->output, HasSubstr("--catalog is required"));
  const std::string broken = testing::MakeTempDir() + "/broken.textproto";
  {
    std::ofstream out(broken);
    out << "version: \"x\"\nfields { name: \"email\" category: KONTACT }\n";
  }
  std::vector<std::string> with_broken = tls;
  with_broken.push_back("--catalog=" + broken);
  with_broken.push_back("--receipt_key=" + pki_->receipt_key());
  auto bad_catalog = testing::RunToCompletion(bin, with_broken, absl::Seconds(20));
  ASSERT_THAT(bad_catalog, IsOk());
  EXPECT_EQ(bad_catalog->exit_code, 2);
  EXPECT_THAT(bad_catalog->output, HasSubstr("broken.textproto:2:"));
}

}  // namespace
}  // namespace cdp
