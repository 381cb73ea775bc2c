// cdpctl generate + import against the real cdp-ingest and cdp-consent over mTLS: what an
// operator loading a source system sees, and that new profiles reach the consent service.
#include <fstream>

#include "absl/strings/str_cat.h"
#include "cdp/v1/consent.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/platform.h"
#include "tests/testing/status_matchers.h"

namespace cdp {
namespace {

using ::cdp::testing::IsOk;
using ::testing::HasSubstr;

const std::string kCdpctl = std::string(CDP_BINARY_DIR) + "/tools/cdpctl/cdpctl";

class CdpctlImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CDP_REQUIRE_PG();
    pki_ = std::make_unique<testing::TestPki>(
        std::vector<std::string>{"service/consent", "service/ingest", "operator/cdpctl"});
    db_ = std::make_unique<testing::TestDatabase>();
    // StartServing: a service that never serves is named, with its output.
    auto consent = testing::StartServing("consent", *pki_, *db_);
    ASSERT_THAT(consent.status(), IsOk());
    consent_ = *std::move(consent);
    auto ingest = testing::StartServing("ingest", *pki_, *db_,
                                        {absl::StrCat("--consent_target=127.0.0.1:", consent_.port)});
    ASSERT_THAT(ingest.status(), IsOk());
    ingest_ = *std::move(ingest);
    data_ = testing::MakeTempDir();
  }
  testing::RunResult Run(std::vector<std::string> args) {
    args.push_back("--tls_cert=" + pki_->dir() + "/operator-cdpctl.crt");
    args.push_back("--tls_key=" + pki_->dir() + "/operator-cdpctl.key");
    args.push_back("--tls_ca=" + pki_->dir() + "/ca.crt");
    auto run = testing::RunToCompletion(kCdpctl, args, absl::Seconds(120));
    EXPECT_THAT(run.status(), IsOk());
    return run.ok() ? *run : testing::RunResult{-1, ""};
  }
  std::string Ingest() { return absl::StrCat("--target=127.0.0.1:", ingest_.port); }
  std::unique_ptr<testing::TestPki> pki_;
  std::unique_ptr<testing::TestDatabase> db_;
  testing::RunningService consent_, ingest_;
  std::string data_;
};

TEST_F(CdpctlImportTest, GeneratedSourcesImportIntoProfilesThatConsentKnows) {
  auto gen = Run({"generate", "--people=60", "--seed=5", "--out=" + data_});
  ASSERT_EQ(gen.exit_code, 0) << gen.output;
  EXPECT_THAT(gen.output, HasSubstr("60 people"));

  auto dry = Run({"import", data_ + "/crm.csv", "--source=crm", "--dry_run", Ingest()});
  EXPECT_EQ(dry.exit_code, 0) << dry.output;
  EXPECT_THAT(dry.output, HasSubstr("DRY RUN, nothing stored"));

  const std::string acks = data_ + "/acks.csv";
  auto crm = Run({"import", data_ + "/crm.csv", "--source=crm", "--acks_out=" + acks, Ingest()});
  EXPECT_EQ(crm.exit_code, 0) << crm.output;
  EXPECT_THAT(crm.output, HasSubstr("0 duplicates, 0 rejected"));
  auto web = Run({"import", data_ + "/webshop.jsonl", "--source=webshop", Ingest()});
  EXPECT_EQ(web.exit_code, 0) << web.output;
  EXPECT_THAT(web.output, HasSubstr("joined an existing one"));

  // The same file again: every record a duplicate.
  auto again = Run({"import", data_ + "/crm.csv", "--source=crm", Ingest()});
  EXPECT_THAT(again.output, HasSubstr(" 0 accepted"));

  // The first CRM customer's profile gets a consent record without anyone asking.
  std::string line, profile;
  std::ifstream in(acks);
  std::getline(in, line);
  std::getline(in, line);
  profile = line.substr(0, line.rfind(','));
  profile = profile.substr(profile.rfind(',') + 1);
  ASSERT_FALSE(profile.empty()) << line;
  auto stub = v1::ConsentService::NewStub(pki_->Channel(consent_.port, "operator/cdpctl"));
  grpc::Status s;
  for (absl::Time end = absl::Now() + absl::Seconds(30); absl::Now() < end;) {
    grpc::ClientContext ctx;
    v1::GetConsentRequest r;
    r.set_customer_id(profile);
    v1::ConsentState state;
    s = stub->GetConsent(&ctx, r, &state);
    if (s.ok()) break;
    ingest_.process->WaitForExit(absl::Milliseconds(100)).IgnoreError();
  }
  EXPECT_TRUE(s.ok()) << s.error_message();

  // The operator looks at it, at the review queue, and merges and unmerges two profiles.
  auto show = Run({"profile", "show", profile, Ingest()});
  EXPECT_EQ(show.exit_code, 0) << show.output;
  EXPECT_THAT(show.output, HasSubstr("given_name"));
  EXPECT_THAT(show.output, HasSubstr("crm/cr-1"));
  auto review = Run({"profile", "review", Ingest()});
  EXPECT_EQ(review.exit_code, 0) << review.output;
  EXPECT_THAT(review.output, HasSubstr("pairs to review"));
  std::getline(in, line);
  std::string second = line.substr(0, line.rfind(','));
  second = second.substr(second.rfind(',') + 1);
  ASSERT_NE(second, profile);
  auto merge = Run({"profile", "merge", profile, second, "--reason=test", Ingest()});
  ASSERT_EQ(merge.exit_code, 0) << merge.output;
  EXPECT_THAT(merge.output, HasSubstr("merged into " + profile));
  const std::string merge_id = merge.output.substr(merge.output.find("(merge ") + 7, 22);
  auto merged = Run({"profile", "show", second, Ingest()});
  EXPECT_THAT(merged.output, HasSubstr("profile " + profile));
  auto no_reason = Run({"profile", "unmerge", merge_id, Ingest()});
  EXPECT_EQ(no_reason.exit_code, 1);
  EXPECT_THAT(no_reason.output, HasSubstr("reason: required"));
  auto unmerge = Run({"profile", "unmerge", merge_id, "--reason=test", Ingest()});
  EXPECT_EQ(unmerge.exit_code, 0) << unmerge.output;
  EXPECT_THAT(unmerge.output, HasSubstr("separated again"));
  EXPECT_THAT(Run({"profile", "show", second, Ingest()}).output, HasSubstr("profile " + second));
}

TEST_F(CdpctlImportTest, BadLinesAreReportedAndSkippedUnlessStrict) {
  const std::string file = data_ + "/bad.csv";
  std::ofstream(file) << "record_id,given_name,family_name,email,date_of_birth\n"
                      << "r1,Jan,Jansen,jan@example.nl,1980-01-01\n"
                      << "r2,Piet,Bakker,not-an-address,1970-01-01\n"
                      << "r3,too,few\n"
                      << "r4,Klaas,Visser,klaas@example.nl,1960-02-30\n"
                      << "r5,Anna,Smit,anna@example.nl,1990-05-05\n";
  auto run = Run({"import", file, "--source=crm", Ingest()});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("5 lines read, 2 accepted"));
  EXPECT_THAT(run.output, HasSubstr("line 3: attributes.email: not an e-mail address"));
  EXPECT_THAT(run.output, HasSubstr("line 4: 3 fields where the header has 5"));
  EXPECT_THAT(run.output, HasSubstr("line 5: attributes.date_of_birth"));

  auto strict = Run({"import", file, "--source=webshop", "--strict", Ingest()});
  EXPECT_EQ(strict.exit_code, 1) << strict.output;
  EXPECT_THAT(strict.output, HasSubstr("stopped at the first bad line"));

  auto missing = Run({"import", file, Ingest()});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.output, HasSubstr("--source"));
}

}  // namespace
}  // namespace cdp
