// The rights service end to end, every part real: cdp-consent, cdp-ingest, cdp-audit,
// cdp-profile and cdp-rights over mTLS on one PostgreSQL server. A customer known to all
// four source systems asks for their data (every item of GDPR Art. 15(1) a-h must be in
// the export) and has processing restricted and lifted again, which the next reads obey.
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "cdp/v1/ingest.grpc.pb.h"
#include "cdp/v1/profile.grpc.pb.h"
#include "cdp/v1/rights.grpc.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "services/common/client.h"
#include "services/common/proto_time.h"
#include "tests/testing/platform.h"
#include "tests/testing/status_matchers.h"

namespace cdp {
namespace {

using ::cdp::testing::IsOk;
using ::testing::HasSubstr;

class RightsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CDP_REQUIRE_PG();
    pki_ = std::make_unique<testing::TestPki>(std::vector<std::string>{
        "service/consent", "service/ingest", "service/audit", "service/profile", "service/rights",
        "service/portal", "service/support-desk", "service/billing", "service/marketing", "operator/cdpctl"});
    db_ = std::make_unique<testing::TestDatabase>();
    consent_ = Start("consent", {});
    audit_ = Start("audit", {"--sign_interval=100ms"});
    ingest_ = Start("ingest", {absl::StrCat("--consent_target=127.0.0.1:", consent_.port)});
    profile_ = Start("profile", {absl::StrCat("--consent_target=127.0.0.1:", consent_.port),
                                 absl::StrCat("--ingest_target=127.0.0.1:", ingest_.port),
                                 absl::StrCat("--audit_target=127.0.0.1:", audit_.port)});
    rights_ = Start("rights", {absl::StrCat("--consent_target=127.0.0.1:", consent_.port),
                               absl::StrCat("--profile_target=127.0.0.1:", profile_.port),
                               absl::StrCat("--audit_target=127.0.0.1:", audit_.port)});
  }
  testing::RunningService Start(const std::string& name, std::vector<std::string> extra) {
    auto r = testing::StartServing(name, *pki_, *db_, extra);
    EXPECT_THAT(r.status(), IsOk());
    return r.ok() ? *std::move(r) : testing::RunningService{};
  }

  // Mirjam as the CRM, the web shop, billing and the contact centre know her: one
  // customer number throughout, so the four records make one profile.
  std::string IngestMirjam() {
    auto stub = v1::IngestService::NewStub(pki_->Channel(ingest_.port, "operator/cdpctl"));
    grpc::ClientContext ctx;
    auto stream = stub->WriteRecords(&ctx);
    v1::WriteRecordsRequest req;
    const std::vector<std::pair<std::string, std::map<std::string, std::string>>> records = {
        {"crm", {{"customer_number", "K7001"}, {"given_name", "Mirjam"}, {"family_name", "Bos"},
                 {"date_of_birth", "1979-03-21"}, {"email", "mirjam.bos@example.nl"}}},
        {"webshop", {{"customer_number", "K7001"}, {"given_name", "Mirjam"}, {"family_name", "Bos"},
                     {"phone_mobile", "06-22334455"}, {"street", "Laan"}, {"house_number", "3"},
                     {"postcode", "3511 AB"}, {"city", "Utrecht"}}},
        {"billing", {{"customer_number", "K7001"}, {"given_name", "M."}, {"family_name", "Bos"},
                     {"email", "mirjam.bos@example.nl"}, {"payment_method_summary", "iDEAL, ING"}}},
        {"contact-centre", {{"customer_number", "K7001"}, {"given_name", "Mirjam"}, {"family_name", "Bos"},
                            {"phone_home", "030-1234567"}}}};
    int n = 0;
    for (const auto& [source, attributes] : records) {
      auto* r = req.add_records();
      r->set_source_system(source);
      r->set_record_id(absl::StrCat("r", ++n));
      *r->mutable_changed_at() = ToProtoTime(absl::FromUnixSeconds(1760000000 + n));
      for (const auto& [k, v] : attributes) (*r->mutable_attributes())[k] = v;
    }
    v1::WriteRecordsResponse resp;
    EXPECT_TRUE(stream->Write(req) && stream->Read(&resp));
    stream->WritesDone();
    EXPECT_TRUE(stream->Finish().ok());
    std::set<std::string> profiles;
    for (const auto& ack : resp.acks()) profiles.insert(ack.profile_id());
    EXPECT_EQ(profiles.size(), 1u) << resp.DebugString();
    return profiles.empty() ? "" : *profiles.begin();
  }

  absl::StatusOr<v1::ProfileView> Read(const std::string& identity, const std::string& customer,
                                       const std::string& purpose, const std::vector<std::string>& fields,
                                       int64_t min_version = 0) {
    auto stub = v1::ProfileService::NewStub(pki_->Channel(profile_.port, identity));
    absl::StatusOr<v1::ProfileView> out = absl::UnavailableError("not yet");
    for (absl::Time end = absl::Now() + absl::Seconds(30); absl::IsUnavailable(out.status()) && absl::Now() < end;) {
      v1::GetProfileRequest req;
      req.set_profile_id(customer);
      auto* ctx = req.mutable_context();
      ctx->set_purpose(purpose);
      for (const auto& f : fields) ctx->mutable_read_mask()->add_paths(f);
      ctx->mutable_acting_party()->set_kind(v1::ActingParty::HUMAN_AGENT);
      ctx->mutable_acting_party()->set_id("agent-1");
      ctx->mutable_justification()->set_code(v1::Justification::CUSTOMER_REQUEST);
      ctx->mutable_justification()->set_reference("ticket-9");
      ctx->set_min_consent_version(min_version);
      grpc::ClientContext c;
      v1::ProfileView view;
      grpc::Status s = stub->GetProfile(&c, req, &view);
      if (s.ok()) {
        out = view;
      } else {
        out = absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
        absl::Notification().WaitForNotificationWithTimeout(absl::Milliseconds(20));
      }
    }
    return out;
  }

  grpc::Status Restrict(const std::string& customer, bool restrict, std::vector<std::string> purposes,
                        v1::RestrictProcessingResponse* out, const std::string& key) {
    auto stub = v1::RightsService::NewStub(pki_->Channel(rights_.port, "service/portal"));
    v1::RestrictProcessingRequest r;
    r.set_customer_id(customer);
    r.set_restrict(restrict);
    for (auto& p : purposes) r.add_purposes(p);
    r.set_channel(v1::PORTAL);
    r.mutable_acting_party()->set_kind(v1::ActingParty::DATA_SUBJECT);
    r.mutable_acting_party()->set_id("self");
    r.set_idempotency_key(key);
    grpc::ClientContext ctx;
    return stub->RestrictProcessing(&ctx, r, out);
  }

  static std::string WithheldReason(const v1::ProfileView& view, const std::string& field) {
    for (const auto& w : view.withheld()) {
      if (w.field() == field) return w.reason();
    }
    return "";
  }

  std::unique_ptr<testing::TestPki> pki_;
  std::unique_ptr<testing::TestDatabase> db_;
  testing::RunningService consent_, audit_, ingest_, profile_, rights_;
};

TEST_F(RightsTest, AnExportHoldsEveryItemOfArticle15ForACustomerOfAllFourSources) {
  const std::string customer = IngestMirjam();
  ASSERT_FALSE(customer.empty());
  ASSERT_THAT(Read("service/support-desk", customer, "customer-care-human", {"email", "given_name"}).status(), IsOk());

  auto stub = v1::RightsService::NewStub(pki_->Channel(rights_.port, "service/portal"));
  v1::ExportMyDataRequest req;
  req.set_customer_id(customer);
  req.set_language("en");
  req.mutable_acting_party()->set_kind(v1::ActingParty::DATA_SUBJECT);
  req.mutable_acting_party()->set_id("self");
  v1::ExportMyDataResponse exported;
  grpc::ClientContext ctx;
  grpc::Status s = stub->ExportMyData(&ctx, req, &exported);
  ASSERT_TRUE(s.ok()) << s.error_message();

  google::protobuf::Struct json;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(exported.json(), &json).ok()) << exported.json();
  const auto& f = json.fields();
  // (g) the data and where each value came from: all four source systems.
  std::set<std::string> sources;
  std::map<std::string, std::string> values;
  for (const auto& item : f.at("personal_data").list_value().values()) {
    const auto& i = item.struct_value().fields();
    sources.insert(i.at("source_system").string_value());
    values[i.at("field").string_value()] = i.at("value").string_value();
    EXPECT_FALSE(i.at("record_id").string_value().empty());
  }
  EXPECT_EQ(sources, (std::set<std::string>{"billing", "contact-centre", "crm", "webshop"}));
  EXPECT_EQ(values["email"], "mirjam.bos@example.nl");
  EXPECT_EQ(values["phone_home"], "+31301234567");
  EXPECT_EQ(values["payment_method_summary"], "iDEAL, ING");
  // (a) purposes with their legal basis, (d) how long data is kept.
  ASSERT_GT(f.at("purposes").list_value().values_size(), 0);
  for (const auto& item : f.at("purposes").list_value().values()) {
    const auto& p = item.struct_value().fields();
    EXPECT_FALSE(p.at("legal_basis").string_value().empty());
    EXPECT_FALSE(p.at("retention").string_value().empty());
    if (p.at("purpose").string_value() == "legal-retention") EXPECT_EQ(p.at("retention_days").number_value(), 2557);
  }
  // (b) categories, (c) recipients: the support desk read her e-mail address.
  EXPECT_GT(f.at("categories").list_value().values_size(), 0);
  bool desk = false;
  for (const auto& item : f.at("recipients").list_value().values()) {
    const auto& r = item.struct_value().fields();
    if (r.at("caller").string_value() == "spiffe://cdp.local/service/support-desk") {
      desk = true;
      EXPECT_THAT(r.at("fields").DebugString(), HasSubstr("email"));
    }
  }
  EXPECT_TRUE(desk);
  for (const auto& item : f.at("recipients").list_value().values()) {
    // The export's own read is not a disclosure to anyone.
    EXPECT_NE(item.struct_value().fields().at("caller").string_value(), "spiffe://cdp.local/service/rights");
  }
  // (e) rights, (f) complaint, (h) automated agents and models.
  EXPECT_GE(f.at("your_rights").list_value().values_size(), 5);
  EXPECT_EQ(f.at("complaint").struct_value().fields().at("authority").string_value(), "Autoriteit Persoonsgegevens");
  EXPECT_GT(f.at("automated_processing").list_value().values_size(), 0);
  EXPECT_THAT(exported.html(), HasSubstr("Who received your data"));
  EXPECT_THAT(exported.html(), HasSubstr("mirjam.bos@example.nl"));

  // Only callers allowed to act on rights; only known customers.
  auto marketing = v1::RightsService::NewStub(pki_->Channel(rights_.port, "service/marketing"));
  grpc::ClientContext c2;
  EXPECT_EQ(marketing->ExportMyData(&c2, req, &exported).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  req.set_customer_id("p-nobody");
  grpc::ClientContext c3;
  EXPECT_EQ(stub->ExportMyData(&c3, req, &exported).error_code(), grpc::StatusCode::NOT_FOUND);
  req.set_customer_id("bad id!");
  grpc::ClientContext c4;
  grpc::Status bad = stub->ExportMyData(&c4, req, &exported);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(bad.error_message(), HasSubstr("customer_id"));
}

TEST_F(RightsTest, ARestrictionStopsReadsAtOnceExceptWhatTheLawRequires) {
  const std::string customer = IngestMirjam();
  ASSERT_FALSE(customer.empty());
  auto before = Read("service/support-desk", customer, "customer-care-human", {"email"});
  ASSERT_THAT(before.status(), IsOk());
  EXPECT_EQ(before->fields().at("email"), "mirjam.bos@example.nl");

  v1::RestrictProcessingResponse restricted;
  grpc::Status s = Restrict(customer, true, {}, &restricted, "k1");
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_FALSE(restricted.receipt().jws().empty());
  EXPECT_THAT(restricted.receipt().json(), HasSubstr("\"cdpChoice\":\"restricted\""));
  EXPECT_THAT(restricted.receipt().json(), HasSubstr("\"cdpPurposeId\":\"*\""));
  // A reader that demands the new consent version sees the restriction at once.
  auto after = Read("service/support-desk", customer, "customer-care-human", {"email"}, restricted.consent_version());
  ASSERT_THAT(after.status(), IsOk());
  EXPECT_EQ(after->fields().count("email"), 0u);
  EXPECT_EQ(WithheldReason(*after, "email"), "restricted_by_customer");
  // What the law requires goes on.
  auto billing = Read("service/billing", customer, "legal-retention", {"given_name"}, restricted.consent_version());
  ASSERT_THAT(billing.status(), IsOk());
  EXPECT_EQ(WithheldReason(*billing, "given_name"), "");

  // Lifting some purposes of an all-purposes restriction is refused with the way out;
  // a legal obligation cannot be restricted.
  v1::RestrictProcessingResponse ignored;
  s = Restrict(customer, false, {"customer-care-human"}, &ignored, "k2");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  s = Restrict(customer, true, {"legal-retention"}, &ignored, "k3");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("purposes[0]"));

  v1::RestrictProcessingResponse lifted;
  s = Restrict(customer, false, {}, &lifted, "k4");
  ASSERT_TRUE(s.ok()) << s.error_message();
  auto again = Read("service/support-desk", customer, "customer-care-human", {"email"}, lifted.consent_version());
  ASSERT_THAT(again.status(), IsOk());
  EXPECT_EQ(again->fields().at("email"), "mirjam.bos@example.nl");
  // A retry of the lift answers as the first time.
  v1::RestrictProcessingResponse retried;
  ASSERT_TRUE(Restrict(customer, false, {}, &retried, "k4").ok());
  EXPECT_EQ(retried.consent_version(), lifted.consent_version());
}

TEST_F(RightsTest, OperatorsActOnRequestsWithCdpctl) {
  const std::string customer = IngestMirjam();
  ASSERT_FALSE(customer.empty());
  ASSERT_THAT(Read("service/support-desk", customer, "customer-care-human", {"email"}).status(), IsOk());
  const std::string bin = std::string(CDP_BINARY_DIR) + "/tools/cdpctl/cdpctl";
  const std::vector<std::string> tls = {"--tls_cert=" + pki_->dir() + "/operator-cdpctl.crt",
                                        "--tls_key=" + pki_->dir() + "/operator-cdpctl.key",
                                        "--tls_ca=" + pki_->dir() + "/ca.crt",
                                        absl::StrCat("--target=127.0.0.1:", rights_.port)};
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.end(), tls.begin(), tls.end());
    return testing::RunToCompletion(bin, args, absl::Seconds(60));
  };
  const std::string dir = testing::MakeTempDir();
  auto exported = run({"rights", "export", customer, "--out_dir=" + dir, "--acting_party=human_agent:agent-3"});
  ASSERT_THAT(exported.status(), IsOk());
  EXPECT_EQ(exported->exit_code, 0) << exported->output;
  EXPECT_THAT(testing::ReadFileOrDie(dir + "/" + customer + ".json"), HasSubstr("mirjam.bos@example.nl"));
  EXPECT_THAT(testing::ReadFileOrDie(dir + "/" + customer + ".html"), HasSubstr("Wie uw gegevens kreeg"));

  auto restricted = run({"rights", "restrict", customer, "--purposes=customer-care-human", "--channel=phone",
                         "--acting_party=human_agent:agent-3"});
  ASSERT_THAT(restricted.status(), IsOk());
  EXPECT_EQ(restricted->exit_code, 0) << restricted->output;
  EXPECT_THAT(restricted->output, HasSubstr("processing restricted for customer-care-human"));
  auto bad = run({"rights", "restrict", customer, "--purposes=legal-retention", "--channel=phone"});
  ASSERT_THAT(bad.status(), IsOk());
  EXPECT_EQ(bad->exit_code, 1);
  EXPECT_THAT(bad->output, HasSubstr("INVALID_ARGUMENT: purposes[0]"));
}

}  // namespace
}  // namespace cdp
