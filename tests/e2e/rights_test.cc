// The rights service end to end, every part real: cdp-consent, cdp-ingest, cdp-audit,
// cdp-profile and cdp-rights over mTLS on one PostgreSQL server. A customer known to all
// four source systems asks for their data (every item of GDPR Art. 15(1) a-h must be in
// the export) and has processing restricted and lifted again, which the next reads obey.
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include <csignal>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "cdp/v1/audit.grpc.pb.h"
#include "cdp/v1/consent.grpc.pb.h"
#include "cdp/v1/ingest.grpc.pb.h"
#include "consent/receipt.h"
#include "pqxx/pqxx"
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
using ::testing::ContainsRegex;
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
    rights_ = StartRights();
  }
  testing::RunningService StartRights() {
    return Start("rights", {absl::StrCat("--consent_target=127.0.0.1:", consent_.port),
                            absl::StrCat("--profile_target=127.0.0.1:", profile_.port),
                            absl::StrCat("--audit_target=127.0.0.1:", audit_.port),
                            absl::StrCat("--ingest_target=127.0.0.1:", ingest_.port),
                            "--resume_interval=200ms", "--retention_interval=1s"});
  }
  testing::RunningService Start(const std::string& name, std::vector<std::string> extra) {
    auto r = testing::StartServing(name, *pki_, *db_, extra);
    EXPECT_THAT(r.status(), IsOk());
    return r.ok() ? *std::move(r) : testing::RunningService{};
  }

  // Mirjam as the CRM, the web shop, billing and the contact centre know her: one
  // customer number throughout, so the four records make one profile.
  std::string IngestMirjam() {
    return Ingest({
        {"crm", {{"customer_number", "K7001"}, {"given_name", "Mirjam"}, {"family_name", "Bos"},
                 {"date_of_birth", "1979-03-21"}, {"email", "mirjam.bos@example.nl"}}},
        {"webshop", {{"customer_number", "K7001"}, {"given_name", "Mirjam"}, {"family_name", "Bos"},
                     {"phone_mobile", "06-22334455"}, {"street", "Laan"}, {"house_number", "3"},
                     {"postcode", "3511 AB"}, {"city", "Utrecht"}}},
        {"billing", {{"customer_number", "K7001"}, {"given_name", "M."}, {"family_name", "Bos"},
                     {"email", "mirjam.bos@example.nl"}, {"payment_method_summary", "iDEAL, ING"}}},
        {"contact-centre", {{"customer_number", "K7001"}, {"given_name", "Mirjam"}, {"family_name", "Bos"},
                            {"phone_home", "030-1234567"}}}});
  }
  // Kees, known to three sources but not to billing: nothing of his is kept by law.
  std::string IngestKees() {
    return Ingest({
        {"crm", {{"customer_number", "K8002"}, {"given_name", "Kees"}, {"family_name", "Wijnhoven"},
                 {"date_of_birth", "1966-11-02"}, {"email", "kees.wijnhoven@voorbeeld.nl"}}},
        {"webshop", {{"customer_number", "K8002"}, {"given_name", "Kees"}, {"family_name", "Wijnhoven"},
                     {"phone_mobile", "06-98765432"}, {"street", "Bloemgracht"}, {"house_number", "88"},
                     {"postcode", "1015 TM"}, {"city", "Amsterdam"}}},
        {"contact-centre", {{"customer_number", "K8002"}, {"given_name", "Kees"}, {"family_name", "Wijnhoven"},
                            {"phone_home", "020-7654321"}}}},
        "k");
  }
  std::string Ingest(const std::vector<std::pair<std::string, std::map<std::string, std::string>>>& records,
                     const std::string& id_prefix = "r", int64_t first_change = 1760000000) {
    auto stub = v1::IngestService::NewStub(pki_->Channel(ingest_.port, "operator/cdpctl"));
    grpc::ClientContext ctx;
    auto stream = stub->WriteRecords(&ctx);
    v1::WriteRecordsRequest req;
    int n = 0;
    for (const auto& [source, attributes] : records) {
      auto* r = req.add_records();
      r->set_source_system(source);
      r->set_record_id(absl::StrCat(id_prefix, ++n));
      *r->mutable_changed_at() = ToProtoTime(absl::FromUnixSeconds(first_change + n));
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

  grpc::Status Erase(const std::string& customer, const std::string& identity, v1::EraseCustomerResponse* out) {
    auto stub = v1::RightsService::NewStub(pki_->Channel(rights_.port, identity));
    v1::EraseCustomerRequest r;
    r.set_customer_id(customer);
    r.set_channel(v1::PORTAL);
    r.mutable_acting_party()->set_kind(v1::ActingParty::DATA_SUBJECT);
    r.mutable_acting_party()->set_id("self");
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    return stub->EraseCustomer(&ctx, r, out);
  }
  // The first column of a query's rows, as the superuser on `dsn`.
  static std::vector<std::string> Column(const std::string& dsn, const std::string& sql) {
    pqxx::connection c(dsn);
    pqxx::nontransaction tx(c);
    std::vector<std::string> out;
    for (const pqxx::row& r : tx.exec(sql)) out.push_back(r[0].is_null() ? "" : r[0].as<std::string>());
    return out;
  }
  std::string ErasureStep(const std::string& customer) {
    auto steps = Column(db_->AdminDsn(), "SELECT step FROM rights.erasures WHERE customer_id = '" + customer + "'");
    return steps.empty() ? "" : steps[0];
  }
  // A full pg_dump of the data database, as text.
  std::string Dump(const std::string& file) {
    auto r = testing::RunToCompletion("/usr/bin/pg_dump", {"--dbname=" + db_->AdminDsn(), "--file=" + file},
                                      absl::Seconds(120));
    EXPECT_THAT(r.status(), IsOk());
    if (r.ok()) {
      EXPECT_EQ(r->exit_code, 0) << r->output;
    }
    return testing::ReadFileOrDie(file);
  }
  absl::StatusOr<v1::UnifiedProfile> Unified(int ingest_port, const std::string& customer) {
    auto stub = v1::IngestService::NewStub(pki_->Channel(ingest_port, "service/profile"));
    v1::GetUnifiedProfileRequest r;
    r.set_profile_id(customer);
    grpc::ClientContext ctx;
    v1::UnifiedProfile out;
    grpc::Status s = stub->GetUnifiedProfile(&ctx, r, &out);
    if (!s.ok()) return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
    return out;
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
    if (p.at("purpose").string_value() == "legal-retention") {
      EXPECT_EQ(p.at("retention_days").number_value(), 2557);
    }
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

  auto erased = run({"rights", "erase", customer, "--channel=phone", "--acting_party=human_agent:agent-3",
                     "--receipt_out=" + dir + "/receipt.jws"});
  ASSERT_THAT(erased.status(), IsOk());
  EXPECT_EQ(erased->exit_code, 0) << erased->output;
  EXPECT_THAT(erased->output, HasSubstr("\"purpose\":\"legal-retention\""));
  const std::string jws = testing::ReadFileOrDie(dir + "/receipt.jws");
  EXPECT_EQ(std::count(jws.begin(), jws.end(), '.'), 2);
  auto watched = run({"rights", "watch-erasures", "--source=billing"});
  ASSERT_THAT(watched.status(), IsOk());
  EXPECT_EQ(watched->exit_code, 0) << watched->output;
  // Any position: the feed promises its order, not that no number is skipped.
  EXPECT_THAT(watched->output, ContainsRegex(absl::StrCat("^[0-9]+ ", customer, " erased ")));
  EXPECT_THAT(watched->output, HasSubstr("delete: billing/r3"));
  auto unknown = run({"rights", "erase", "p-nobody", "--channel=phone"});
  ASSERT_THAT(unknown.status(), IsOk());
  EXPECT_EQ(unknown->exit_code, 1);
  EXPECT_THAT(unknown->output, HasSubstr("NOT_FOUND"));
}

TEST_F(RightsTest, AnErasureLeavesNothingOfTheCustomerAndMakesEarlierBackupsUnreadable) {
  const std::string kees = IngestKees();
  const std::string mirjam = IngestMirjam();
  ASSERT_FALSE(kees.empty());
  ASSERT_THAT(Read("service/support-desk", kees, "customer-care-human", {"email", "phone_mobile"}).status(), IsOk());
  const std::vector<std::string> lookups = Column(
      db_->AdminDsn(), "SELECT encode(h, 'hex') FROM ingest.records, unnest(lookup_hashes) h "
                       "WHERE profile_id = '" + kees + "'");
  ASSERT_FALSE(lookups.empty());
  // A backup of the data database taken before the erasure.
  const std::string dir = testing::MakeTempDir();
  const std::string before = Dump(dir + "/before.sql");
  for (const std::string& hash : lookups) ASSERT_THAT(before, HasSubstr(hash));  // what the check below looks for

  v1::EraseCustomerResponse receipt;
  EXPECT_EQ(Erase("p-nobody", "service/portal", &receipt).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Erase(kees, "service/marketing", &receipt).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  grpc::Status erased = Erase(kees, "service/portal", &receipt);
  ASSERT_TRUE(erased.ok()) << erased.error_message();

  // The receipt: signed with the platform's receipt key, saying what went and that nothing was kept.
  google::protobuf::Struct json;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(receipt.receipt_json(), &json).ok());
  EXPECT_EQ(json.fields().at("customerId").string_value(), kees);
  EXPECT_EQ(json.fields().at("erased").struct_value().fields().at("sourceRecords").number_value(), 3);
  EXPECT_EQ(json.fields().at("kept").list_value().values_size(), 0);
  {
    auto consent = v1::ConsentService::NewStub(pki_->Channel(consent_.port, "service/portal"));
    grpc::ClientContext ctx;
    v1::ReceiptKey key;
    ASSERT_TRUE(consent->GetReceiptKey(&ctx, v1::GetReceiptKeyRequest(), &key).ok());
    auto payload = consent::VerifyJws(receipt.receipt_signature(), key.public_key_pem());
    ASSERT_THAT(payload.status(), IsOk());
    EXPECT_EQ(*payload, receipt.receipt_json());
  }
  // Asked again: the first receipt.
  v1::EraseCustomerResponse again;
  ASSERT_TRUE(Erase(kees, "service/portal", &again).ok());
  EXPECT_EQ(again.receipt_signature(), receipt.receipt_signature());

  // Every read of him answers NOT_FOUND; his timeline leads nowhere; the log still verifies.
  absl::StatusOr<v1::ProfileView> read = absl::UnknownError("not read");
  for (absl::Time end = absl::Now() + absl::Seconds(10); absl::Now() < end;) {
    read = Read("service/support-desk", kees, "customer-care-human", {"email"});
    if (absl::IsNotFound(read.status())) break;
    absl::Notification().WaitForNotificationWithTimeout(absl::Milliseconds(50));
  }
  EXPECT_TRUE(absl::IsNotFound(read.status())) << read.status();
  {
    auto consent = v1::ConsentService::NewStub(pki_->Channel(consent_.port, "service/portal"));
    grpc::ClientContext ctx;
    v1::GetConsentRequest r;
    r.set_customer_id(kees);
    v1::ConsentState state;
    EXPECT_EQ(consent->GetConsent(&ctx, r, &state).error_code(), grpc::StatusCode::NOT_FOUND);
  }
  {
    auto audit = v1::AuditService::NewStub(pki_->Channel(audit_.port, "service/portal"));
    grpc::ClientContext ctx;
    v1::ListAccessEventsRequest r;
    r.set_customer_id(kees);
    v1::ListAccessEventsResponse events;
    grpc::Status s = audit->ListAccessEvents(&ctx, r, &events);
    EXPECT_TRUE(s.ok() ? events.events_size() == 0 : s.error_code() == grpc::StatusCode::NOT_FOUND);
    auto op = v1::AuditService::NewStub(pki_->Channel(audit_.port, "operator/cdpctl"));
    grpc::ClientContext vctx;
    v1::VerifyLogResponse verified;
    ASSERT_TRUE(op->VerifyLog(&vctx, v1::VerifyLogRequest(), &verified).ok());
    EXPECT_TRUE(verified.ok()) << verified.DebugString();
    EXPECT_GT(verified.events_checked(), 0);
  }

  // A full dump of the database holds none of him in any form: not the values as sent, not
  // their normalised forms, not the keyed hashes searches went through.
  const std::string after = absl::AsciiStrToLower(Dump(dir + "/after.sql"));
  for (const char* needle : {"kees", "wijnhoven", "kees.wijnhoven@voorbeeld.nl", "voorbeeld.nl", "06-98765432",
                             "+31698765432", "0698765432", "98765432", "020-7654321", "+31207654321",
                             "7654321", "bloemgracht", "1015 tm", "1015tm", "1966-11-02", "19661102"}) {
    EXPECT_FALSE(absl::StrContains(after, needle)) << needle;
  }
  for (const std::string& hash : lookups) EXPECT_FALSE(absl::StrContains(after, hash)) << hash;
  // Mirjam is still there (the dump is a real one).
  EXPECT_THAT(Unified(ingest_.port, mirjam).status(), IsOk());

  // The backup from before, restored, with the key store as it is now: Mirjam reads,
  // Kees's records open with nothing.
  testing::TestDatabase restored;
  auto loaded = testing::RunToCompletion(
      "/usr/bin/psql", {"--dbname=" + restored.AdminDsn(), "--quiet", "--set=ON_ERROR_STOP=1",
                        "--file=" + dir + "/before.sql"},
      absl::Seconds(120));
  ASSERT_THAT(loaded.status(), IsOk());
  ASSERT_EQ(loaded->exit_code, 0) << loaded->output;
  auto from_backup = testing::StartServing("ingest", *pki_, restored,
                                           {"--key_db_dsn=" + db_->Keys().DsnAs("cdp_ingest"),
                                            "--key_db_admin_dsn=" + db_->Keys().AdminDsn()});
  ASSERT_THAT(from_backup.status(), IsOk());
  EXPECT_THAT(Unified(from_backup->port, mirjam).status(), IsOk());
  EXPECT_TRUE(absl::IsNotFound(Unified(from_backup->port, kees).status()));
}

TEST_F(RightsTest, AnErasureCutShortByACrashCompletesAfterARestartAndKeepsOnlyWhatTheLawRequires) {
  const std::string mirjam = IngestMirjam();
  ASSERT_FALSE(mirjam.empty());
  ASSERT_THAT(Read("service/support-desk", mirjam, "customer-care-human", {"email"}).status(), IsOk());
  // The access log goes down: the erasure gets as far as it can.
  audit_.process->Signal(SIGKILL);
  ASSERT_THAT(audit_.process->WaitForExit(absl::Seconds(10)).status(), IsOk());
  v1::EraseCustomerResponse receipt;
  grpc::Status first = Erase(mirjam, "service/portal", &receipt);
  EXPECT_EQ(first.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(first.error_message(), HasSubstr("completed automatically"));
  EXPECT_EQ(ErasureStep(mirjam), "consent_erased");
  EXPECT_TRUE(absl::IsNotFound(Unified(ingest_.port, mirjam).status()));
  // And the rights service dies with it half done.
  rights_.process->Signal(SIGKILL);
  ASSERT_THAT(rights_.process->WaitForExit(absl::Seconds(10)).status(), IsOk());

  audit_ = Start("audit", {"--sign_interval=100ms"});
  rights_ = StartRights();
  // Nobody asks again: the restarted service finishes the job by itself.
  for (absl::Time end = absl::Now() + absl::Seconds(60); ErasureStep(mirjam) != "done" && absl::Now() < end;) {
    absl::Notification().WaitForNotificationWithTimeout(absl::Milliseconds(100));
  }
  ASSERT_EQ(ErasureStep(mirjam), "done");
  ASSERT_TRUE(Erase(mirjam, "service/portal", &receipt).ok());

  // Billing invoiced her, so tax law keeps her billing identity for seven years from that
  // record, and the receipt says which fields and until when; nothing else.
  google::protobuf::Struct json;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(receipt.receipt_json(), &json).ok());
  const auto& kept = json.fields().at("kept").list_value();
  ASSERT_EQ(kept.values_size(), 1);
  const auto& k = kept.values(0).struct_value().fields();
  EXPECT_EQ(k.at("purpose").string_value(), "legal-retention");
  EXPECT_EQ(k.at("legalBasis").string_value(), "legal_obligation");
  std::set<std::string> fields;
  for (const auto& f : k.at("fields").list_value().values()) fields.insert(f.string_value());
  EXPECT_TRUE(fields.count("family_name") && fields.count("customer_number") && fields.count("payment_method_summary"));
  EXPECT_FALSE(fields.count("email") || fields.count("phone_mobile") || fields.count("phone_home") ||
               fields.count("date_of_birth") || fields.count("postal_address"));
  EXPECT_EQ(k.at("keptUntil").string_value(), "2032-10-09T08:53:23Z");  // 1760000003 s + 2557 days

  // Source systems learn of it, each of its own records.
  auto stub = v1::RightsService::NewStub(pki_->Channel(rights_.port, "service/billing"));
  grpc::ClientContext ctx;
  v1::WatchErasuresRequest watch;
  watch.set_source_system("billing");
  auto stream = stub->WatchErasures(&ctx, watch);
  v1::ErasureNotice notice;
  ASSERT_TRUE(stream->Read(&notice));
  EXPECT_EQ(notice.customer_id(), mirjam);
  ASSERT_EQ(notice.source_records_size(), 1);
  EXPECT_EQ(notice.source_records(0).record_id(), "r3");
  ctx.TryCancel();
  auto marketing = v1::RightsService::NewStub(pki_->Channel(rights_.port, "service/marketing"));
  grpc::ClientContext denied_ctx;
  auto denied = marketing->WatchErasures(&denied_ctx, watch);
  EXPECT_FALSE(denied->Read(&notice));
  EXPECT_EQ(denied->Finish().error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(RightsTest, TheRetentionJobErasesCustomersGoneLongerThanAnyPurposeKeepsData) {
  const std::string mirjam = IngestMirjam();  // last heard of in 2025
  // Henk, last heard of in 2015 (invoiced then too): longer ago than any purpose keeps
  // data, and longer than the tax law's seven years.
  const std::string henk = Ingest(
      {{"crm", {{"customer_number", "K2015"}, {"given_name", "Henk"}, {"family_name", "Smit"},
                {"date_of_birth", "1950-05-05"}, {"email", "henk.smit@voorbeeld.nl"}}},
       {"billing", {{"customer_number", "K2015"}, {"given_name", "Henk"}, {"family_name", "Smit"},
                    {"payment_method_summary", "acceptgiro"}}}},
      "h", 1420070400);
  ASSERT_FALSE(henk.empty());
  for (absl::Time end = absl::Now() + absl::Seconds(60); ErasureStep(henk) != "done" && absl::Now() < end;) {
    absl::Notification().WaitForNotificationWithTimeout(absl::Milliseconds(100));
  }
  ASSERT_EQ(ErasureStep(henk), "done");
  EXPECT_EQ(Column(db_->AdminDsn(), "SELECT caller FROM rights.erasures WHERE customer_id = '" + henk + "'")[0],
            "retention");
  auto receipt = Column(db_->AdminDsn(), "SELECT receipt_json FROM rights.erasures WHERE customer_id = '" + henk + "'");
  EXPECT_THAT(receipt[0], HasSubstr("\"kept\":[]"));
  EXPECT_THAT(receipt[0], HasSubstr("\"requestedBy\":\"automated_system\""));
  EXPECT_TRUE(absl::IsNotFound(Unified(ingest_.port, henk).status()));
  // Mirjam is within every period: untouched.
  EXPECT_EQ(ErasureStep(mirjam), "");
  EXPECT_THAT(Unified(ingest_.port, mirjam).status(), IsOk());
  EXPECT_FALSE(Column(db_->AdminDsn(), "SELECT 1 FROM rights.retention_runs WHERE ok AND erased = 1").empty());
}

TEST_F(RightsTest, ErasingAMergedCustomerErasesEveryProfileTheyAreMadeOf) {
  // Two accounts of one person (other customer numbers: never joined automatically), merged
  // by an agent; each has its own consent record.
  const std::string first = Ingest({{"crm", {{"customer_number", "K9001"}, {"given_name", "Fleur"},
                                              {"family_name", "Dekker"}, {"email", "fleur@voorbeeld.nl"}}}}, "f");
  const std::string second = Ingest({{"webshop", {{"customer_number", "K9002"}, {"given_name", "Fleur"},
                                                  {"family_name", "Dekker"}, {"email", "f.dekker@werk.nl"}}}}, "g");
  ASSERT_NE(first, second);
  {
    auto stub = v1::IngestService::NewStub(pki_->Channel(ingest_.port, "operator/cdpctl"));
    v1::MergeProfilesRequest m;
    m.add_profile_ids(first);
    m.add_profile_ids(second);
    m.set_reason("customer confirmed by phone");
    m.mutable_acting_party()->set_kind(v1::ActingParty::HUMAN_AGENT);
    m.mutable_acting_party()->set_id("agent-3");
    grpc::ClientContext ctx;
    v1::MergeProfilesResponse out;
    ASSERT_TRUE(stub->MergeProfiles(&ctx, m, &out).ok());
  }
  auto consent = v1::ConsentService::NewStub(pki_->Channel(consent_.port, "service/portal"));
  auto known = [&](const std::string& id) {
    grpc::ClientContext ctx;
    v1::GetConsentRequest r;
    r.set_customer_id(id);
    v1::ConsentState state;
    return consent->GetConsent(&ctx, r, &state).error_code();
  };
  for (absl::Time end = absl::Now() + absl::Seconds(10); known(second) != grpc::StatusCode::OK && absl::Now() < end;) {
    absl::Notification().WaitForNotificationWithTimeout(absl::Milliseconds(50));
  }
  ASSERT_EQ(known(second), grpc::StatusCode::OK);
  v1::EraseCustomerResponse receipt;
  ASSERT_TRUE(Erase(first, "service/portal", &receipt).ok());
  EXPECT_THAT(receipt.receipt_json(), HasSubstr("\"profiles\":2"));
  EXPECT_EQ(known(first), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(known(second), grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(absl::IsNotFound(Unified(ingest_.port, second).status()));
}

}  // namespace
}  // namespace cdp
