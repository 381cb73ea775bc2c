// cdpctl's consent commands against the real cdp-consent over mTLS, as an operator runs them.
#include <signal.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/platform.h"
#include "tests/testing/status_matchers.h"

namespace cdp {
namespace {

using ::cdp::testing::IsOk;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kCdpctl = std::string(CDP_BINARY_DIR) + "/tools/cdpctl/cdpctl";

class CdpctlConsentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CDP_REQUIRE_PG();
    pki_ = std::make_unique<testing::TestPki>(std::vector<std::string>{"service/consent", "operator/cdpctl"});
    db_ = std::make_unique<testing::TestDatabase>();
    // StartServing: a service that never serves is named, with its output.
    auto consent = testing::StartServing("consent", *pki_, *db_);
    ASSERT_THAT(consent.status(), IsOk());
    consent_ = *std::move(consent);
  }
  testing::RunResult Run(std::vector<std::string> args) {
    args.push_back("--target=127.0.0.1:" + std::to_string(consent_.port));
    args.push_back("--tls_cert=" + pki_->dir() + "/operator-cdpctl.crt");
    args.push_back("--tls_key=" + pki_->dir() + "/operator-cdpctl.key");
    args.push_back("--tls_ca=" + pki_->dir() + "/ca.crt");
    auto run = testing::RunToCompletion(kCdpctl, args, absl::Seconds(30));
    EXPECT_THAT(run.status(), IsOk());
    return run.ok() ? *run : testing::RunResult{-1, ""};
  }
  std::unique_ptr<testing::TestPki> pki_;
  std::unique_ptr<testing::TestDatabase> db_;
  testing::RunningService consent_;
};

TEST_F(CdpctlConsentTest, RegisterSetShowHistoryAndVerifyTheReceipt) {
  auto reg = Run({"consent", "register", "c-1", "c-2"});
  EXPECT_EQ(reg.exit_code, 0) << reg.output;
  EXPECT_THAT(reg.output, HasSubstr("registered 2 new of 2"));

  const std::string receipt = testing::MakeTempDir() + "/receipt.jws";
  auto set = Run({"consent", "set", "c-1", "direct-marketing/email=allow",
                  "service-analytics/category:interactions=deny", "--channel=phone",
                  "--acting_party=human_agent:agent-7", "--receipt_out=" + receipt});
  EXPECT_EQ(set.exit_code, 0) << set.output;
  EXPECT_THAT(set.output, HasSubstr("customer c-1: consent version 1"));

  auto show = Run({"consent", "show", "c-1"});
  EXPECT_EQ(show.exit_code, 0) << show.output;
  EXPECT_THAT(show.output, HasSubstr("direct-marketing (consent)"));
  EXPECT_THAT(show.output, HasSubstr("customer_field_choice, phone"));
  EXPECT_THAT(show.output, HasSubstr("customer_category_choice"));

  auto history = Run({"consent", "history", "c-1", "--page_size=1"});
  EXPECT_EQ(history.exit_code, 0) << history.output;
  EXPECT_THAT(history.output, HasSubstr("human_agent:agent-7"));
  EXPECT_THAT(history.output, HasSubstr("registered"));  // the second page was fetched too

  auto verify = Run({"verify-receipt", receipt});
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
  EXPECT_THAT(verify.output, HasSubstr("valid signature"));
  EXPECT_THAT(verify.output, HasSubstr("\"piiPrincipalId\":\"c-1\""));

  // Offline, with the public key alone, no certificate needed.
  std::string pub = testing::MakeTempDir() + "/pub.pem";
  ASSERT_EQ(std::system(("openssl pkey -in " + pki_->receipt_key() + " -pubout -out " + pub).c_str()), 0);
  auto offline = testing::RunToCompletion(kCdpctl, {"verify-receipt", receipt, "--public_key=" + pub},
                                          absl::Seconds(30));
  ASSERT_THAT(offline.status(), IsOk());
  EXPECT_EQ(offline->exit_code, 0) << offline->output;
}

TEST_F(CdpctlConsentTest, RefusalsAreReadableAndExitOne) {
  Run({"consent", "register", "c-1"});
  auto locked = Run({"consent", "set", "c-1", "legal-retention/invoice_history=deny"});
  EXPECT_EQ(locked.exit_code, 1);
  EXPECT_THAT(locked.output, HasSubstr("FAILED_PRECONDITION"));
  EXPECT_THAT(locked.output, HasSubstr("cannot be switched on or off"));
  auto unknown = Run({"consent", "show", "c-404"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_THAT(unknown.output, HasSubstr("NOT_FOUND"));
  auto bad = Run({"consent", "set", "c-1", "direct-marketing:email"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.output, HasSubstr("PURPOSE/FIELD=allow|deny"));
  auto nothing = Run({"consent", "show", "c-1"});
  EXPECT_THAT(nothing.output, Not(HasSubstr("customer_field_choice")));
}

}  // namespace
}  // namespace cdp
