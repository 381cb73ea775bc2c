// The read path end to end over mTLS on loopback, every part real: cdp-consent, cdp-ingest
// (announcing profiles to consent), cdp-audit and cdp-profile on one PostgreSQL server.
// A record is ingested, read for two purposes, a choice is given and revoked through the
// portal's identity, and every read is found in the signed log.
#include <atomic>
#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "cdp/v1/audit.grpc.pb.h"
#include "cdp/v1/consent.grpc.pb.h"
#include "cdp/v1/ingest.grpc.pb.h"
#include "cdp/v1/profile.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pqxx/pqxx"
#include "services/audit/merkle.h"
#include "services/common/client.h"
#include "services/common/grpc_status.h"
#include "services/common/proto_time.h"
#include "tests/testing/platform.h"
#include "tests/testing/status_matchers.h"

namespace cdp {
namespace {

using ::cdp::testing::IsOk;

class ReadPathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CDP_REQUIRE_PG();
    pki_ = std::make_unique<testing::TestPki>(std::vector<std::string>{
        "service/consent", "service/ingest", "service/audit", "service/profile", "service/portal",
        "service/support-desk", "service/marketing", "operator/cdpctl", "auditor/dpo"});
    db_ = std::make_unique<testing::TestDatabase>();
    consent_ = Start("consent", {});
    audit_ = Start("audit", {"--sign_interval=100ms"});
    ingest_ = Start("ingest", {absl::StrCat("--consent_target=127.0.0.1:", consent_.port)});
    profile_ = Start("profile", {absl::StrCat("--consent_target=127.0.0.1:", consent_.port),
                                 absl::StrCat("--ingest_target=127.0.0.1:", ingest_.port),
                                 absl::StrCat("--audit_target=127.0.0.1:", audit_.port)});
  }
  testing::RunningService Start(const std::string& name, std::vector<std::string> extra) {
    auto r = testing::StartServing(name, *pki_, *db_, extra);
    EXPECT_THAT(r.status(), IsOk());
    return r.ok() ? *std::move(r) : testing::RunningService{};
  }

  // A newer version of Jan's CRM record, with another e-mail address.
  void JanMoves(const std::string& email) {
    auto stub = v1::IngestService::NewStub(pki_->Channel(ingest_.port, "operator/cdpctl"));
    grpc::ClientContext ctx;
    auto stream = stub->WriteRecords(&ctx);
    v1::WriteRecordsRequest req;
    auto* r = req.add_records();
    r->set_source_system("crm");
    r->set_record_id("c1");
    *r->mutable_changed_at() = ToProtoTime(absl::FromUnixSeconds(1700000100));
    (*r->mutable_attributes())["given_name"] = "Jan";
    (*r->mutable_attributes())["family_name"] = "Berg";
    (*r->mutable_attributes())["email"] = email;
    (*r->mutable_attributes())["date_of_birth"] = "1980-04-09";
    v1::WriteRecordsResponse resp;
    EXPECT_TRUE(stream->Write(req) && stream->Read(&resp));
    stream->WritesDone();
    EXPECT_TRUE(stream->Finish().ok());
  }

  std::string IngestJan() {
    auto stub = v1::IngestService::NewStub(pki_->Channel(ingest_.port, "operator/cdpctl"));
    grpc::ClientContext ctx;
    auto stream = stub->WriteRecords(&ctx);
    v1::WriteRecordsRequest req;
    auto* r = req.add_records();
    r->set_source_system("crm");
    r->set_record_id("c1");
    *r->mutable_changed_at() = ToProtoTime(absl::FromUnixSeconds(1700000000));
    (*r->mutable_attributes())["given_name"] = "Jan";
    (*r->mutable_attributes())["family_name"] = "Berg";
    (*r->mutable_attributes())["email"] = "jan.berg@example.nl";
    (*r->mutable_attributes())["date_of_birth"] = "1980-04-09";
    v1::WriteRecordsResponse resp;
    EXPECT_TRUE(stream->Write(req) && stream->Read(&resp));
    stream->WritesDone();
    EXPECT_TRUE(stream->Finish().ok());
    return resp.acks_size() == 1 ? resp.acks(0).profile_id() : "";
  }

  absl::StatusOr<v1::ProfileView> Read(const std::string& identity, const std::string& profile,
                                       const std::string& purpose, int64_t min_version = 0) {
    auto stub = v1::ProfileService::NewStub(pki_->Channel(profile_.port, identity));
    v1::GetProfileRequest req;
    req.set_profile_id(profile);
    req.mutable_context()->set_purpose(purpose);
    req.mutable_context()->mutable_read_mask()->add_paths("email");
    req.mutable_context()->mutable_read_mask()->add_paths("given_name");
    req.mutable_context()->mutable_acting_party()->set_kind(v1::ActingParty::HUMAN_AGENT);
    req.mutable_context()->mutable_acting_party()->set_id("agent-7");
    req.mutable_context()->mutable_justification()->set_code(v1::Justification::CUSTOMER_REQUEST);
    req.mutable_context()->mutable_justification()->set_reference("ticket-123");
    req.mutable_context()->set_min_consent_version(min_version);
    grpc::ClientContext ctx;
    v1::ProfileView view;
    absl::Status s = rpc::FromGrpcStatus(stub->GetProfile(&ctx, req, &view));
    if (!s.ok()) return s;
    return view;
  }

  // Read, retrying while the service answers UNAVAILABLE: the profile's announcement or
  // a consent change the caller demands (min_version) is still on its way to the replica.
  absl::StatusOr<v1::ProfileView> ReadEventually(const std::string& identity, const std::string& profile,
                                                 const std::string& purpose, int64_t min_version = 0) {
    absl::StatusOr<v1::ProfileView> view = absl::UnavailableError("not yet");
    for (const absl::Time deadline = absl::Now() + absl::Seconds(30);
         absl::IsUnavailable(view.status()) && absl::Now() < deadline;) {
      view = Read(identity, profile, purpose, min_version);
      if (absl::IsUnavailable(view.status())) absl::Notification().WaitForNotificationWithTimeout(absl::Milliseconds(20));
    }
    return view;
  }

  int64_t SetMarketingEmail(const std::string& customer, bool allow) {
    auto portal = v1::ConsentService::NewStub(pki_->Channel(consent_.port, "service/portal"));
    v1::UpdateConsentRequest r;
    r.set_customer_id(customer);
    r.set_idempotency_key(absl::StrCat("k", ++key_));
    r.set_channel(v1::PORTAL);
    r.mutable_acting_party()->set_kind(v1::ActingParty::DATA_SUBJECT);
    auto* c = r.add_choices();
    c->set_field("email");
    c->set_purpose("direct-marketing");
    c->set_allow(allow);
    grpc::ClientContext ctx;
    v1::UpdateConsentResponse response;
    grpc::Status s = portal->UpdateConsent(&ctx, r, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return s.ok() ? response.version() : -1;
  }

  std::unique_ptr<testing::TestPki> pki_;
  std::unique_ptr<testing::TestDatabase> db_;
  testing::RunningService consent_, audit_, ingest_, profile_;
  int key_ = 0;
};

TEST_F(ReadPathTest, AChangedRecordReachesReadersWithinTheCachesBound) {
  const std::string customer = IngestJan();
  ASSERT_FALSE(customer.empty());
  auto first = ReadEventually("service/support-desk", customer, "customer-care-human");
  ASSERT_THAT(first.status(), IsOk());
  ASSERT_EQ(first->fields().at("email"), "jan.berg@example.nl");
  for (int i = 0; i < 3; ++i) ASSERT_THAT(Read("service/support-desk", customer, "customer-care-human").status(), IsOk());
  // The profile service keeps Jan's golden record in memory now; the ingest service's
  // change feed must drop it when his record changes (bound: 100 ms plus a 20 ms poll).
  JanMoves("jan@nieuw.example.nl");
  std::string email;
  for (absl::Time end = absl::Now() + absl::Seconds(5); absl::Now() < end && email != "jan@nieuw.example.nl";) {
    auto view = Read("service/support-desk", customer, "customer-care-human");
    ASSERT_THAT(view.status(), IsOk());
    email = view->fields().at("email");
    if (email != "jan@nieuw.example.nl") absl::Notification().WaitForNotificationWithTimeout(absl::Milliseconds(10));
  }
  EXPECT_EQ(email, "jan@nieuw.example.nl");
}

TEST_F(ReadPathTest, ConsentDecidesEachReadAndEveryReadIsInTheSignedLog) {
  const std::string customer = IngestJan();
  ASSERT_FALSE(customer.empty());
  // The new profile reaches the consent service (the registrar) and the profile service's
  // replica in a moment; until then reads are refused, never answered from nothing.
  auto care = ReadEventually("service/support-desk", customer, "customer-care-human");
  ASSERT_THAT(care.status(), IsOk());
  EXPECT_EQ(care->fields().at("email"), "jan.berg@example.nl");  // a contract purpose
  std::vector<v1::ProfileView> reads = {*care};
  // The registrar notes how far it announced once consent has them: up to the last write.
  int64_t waiting = -1;
  for (absl::Time end = absl::Now() + absl::Seconds(10); absl::Now() < end && waiting != 0;) {
    pqxx::connection c(db_->AdminDsn());
    waiting = pqxx::nontransaction(c)
                  .exec1("SELECT s.value - a.through_seq FROM ingest.sequence s, ingest.consent_announced a")[0]
                  .as<int64_t>();
    if (waiting != 0) absl::Notification().WaitForNotificationWithTimeout(absl::Milliseconds(50));
  }
  EXPECT_EQ(waiting, 0);

  // Marketing: off until the customer says yes, off again after they revoke.
  auto off = Read("service/marketing", customer, "direct-marketing");
  ASSERT_THAT(off.status(), IsOk());
  EXPECT_EQ(off->fields().count("email"), 0u);
  reads.push_back(*off);
  const int64_t yes = SetMarketingEmail(customer, true);
  auto on = ReadEventually("service/marketing", customer, "direct-marketing", yes);
  ASSERT_THAT(on.status(), IsOk());
  EXPECT_EQ(on->fields().at("email"), "jan.berg@example.nl");
  reads.push_back(*on);
  const int64_t no = SetMarketingEmail(customer, false);
  auto revoked = ReadEventually("service/marketing", customer, "direct-marketing", no);
  ASSERT_THAT(revoked.status(), IsOk());
  EXPECT_EQ(revoked->fields().count("email"), 0u);
  ASSERT_EQ(revoked->withheld_size(), 2);  // given_name is outside the purpose's scope
  reads.push_back(*revoked);

  // A purpose marketing may not claim: refused.
  EXPECT_TRUE(absl::IsPermissionDenied(Read("service/marketing", customer, "customer-care-human").status()));

  // Every read is in the log, provably: a signed head covering them all, and each event's
  // inclusion proof checks against it with nothing but the proof.
  auto audit = v1::AuditService::NewStub(pki_->Channel(audit_.port, "service/support-desk"));
  v1::SignedTreeHead head;
  const absl::Time until = absl::Now() + absl::Seconds(10);
  do {
    grpc::ClientContext ctx;
    ASSERT_TRUE(audit->GetSignedTreeHead(&ctx, v1::GetSignedTreeHeadRequest(), &head).ok());
    if (head.tree_size() < 5) absl::Notification().WaitForNotificationWithTimeout(absl::Milliseconds(50));
  } while (head.tree_size() < 5 && absl::Now() < until);
  ASSERT_EQ(head.tree_size(), 5);  // four reads and one refused attempt
  audit::Hash root;
  std::copy(head.root_hash().begin(), head.root_hash().end(), root.begin());
  for (const v1::ProfileView& read : reads) {
    grpc::ClientContext ctx;
    v1::GetInclusionProofRequest req;
    req.set_position(read.access_event_position());
    req.set_tree_size(head.tree_size());
    v1::InclusionProof proof;
    ASSERT_TRUE(audit->GetInclusionProof(&ctx, req, &proof).ok());
    std::vector<audit::Hash> path;
    for (const std::string& h : proof.hashes()) {
      audit::Hash x;
      std::copy(h.begin(), h.end(), x.begin());
      path.push_back(x);
    }
    audit::Hash leaf;
    std::copy(proof.leaf_hash().begin(), proof.leaf_hash().end(), leaf.begin());
    EXPECT_TRUE(audit::VerifyInclusion(leaf, read.access_event_position(), head.tree_size(), path, root));
  }
  // And the operator's verification finds the log intact.
  auto op = v1::AuditService::NewStub(pki_->Channel(audit_.port, "operator/cdpctl"));
  grpc::ClientContext ctx;
  v1::VerifyLogResponse verified;
  ASSERT_TRUE(op->VerifyLog(&ctx, v1::VerifyLogRequest(), &verified).ok());
  EXPECT_TRUE(verified.ok()) << verified.problem();
  EXPECT_EQ(verified.events_checked(), 5);

  // The customer's timeline (through the portal's identity), newest first, explained: the
  // read after the revocation says what was withheld and why.
  auto portal = v1::AuditService::NewStub(pki_->Channel(audit_.port, "service/portal"));
  v1::ListAccessEventsRequest list;
  list.set_customer_id(customer);
  list.set_language("nl");
  list.mutable_page()->set_page_size(2);
  std::vector<v1::AccessEvent> timeline;
  do {
    grpc::ClientContext c;
    v1::ListAccessEventsResponse page;
    ASSERT_TRUE(portal->ListAccessEvents(&c, list, &page).ok());
    timeline.insert(timeline.end(), page.events().begin(), page.events().end());
    list.mutable_page()->set_page_token(page.next_page_token());
  } while (!list.page().page_token().empty());
  ASSERT_EQ(timeline.size(), 5u);
  EXPECT_EQ(timeline[0].purpose(), "customer-care-human");  // the refused attempt, last
  EXPECT_NE(timeline[0].explanation().find("kreeg niets te zien"), std::string::npos) << timeline[0].explanation();
  EXPECT_EQ(timeline[1].position(), revoked->access_event_position());
  EXPECT_NE(timeline[1].explanation().find("uw e-mailadres (u heeft dit uitgezet)"), std::string::npos)
      << timeline[1].explanation();
  EXPECT_NE(timeline[4].explanation().find("een medewerker van de klantenservice (een mens) uw e-mailadres"),
            std::string::npos)
      << timeline[4].explanation();
  // Another service may not read a customer's timeline.
  grpc::ClientContext c;
  v1::ListAccessEventsResponse denied;
  EXPECT_EQ(v1::AuditService::NewStub(pki_->Channel(audit_.port, "service/marketing"))
                ->ListAccessEvents(&c, list, &denied)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(ReadPathTest, WithTheAuditServiceGoneReadsFailAndReleaseNothing) {
  const std::string customer = IngestJan();
  ASSERT_FALSE(customer.empty());
  auto first = ReadEventually("service/support-desk", customer, "customer-care-human");
  ASSERT_THAT(first.status(), IsOk());
  audit_.process->Signal(SIGKILL);
  ASSERT_THAT(audit_.process->WaitForExit(absl::Seconds(10)).status(), IsOk());
  auto after = Read("service/support-desk", customer, "customer-care-human");
  EXPECT_TRUE(absl::IsUnavailable(after.status())) << after.status();
}

TEST_F(ReadPathTest, WithTheLogsDatabaseUnreachableReadsFailAndReleaseNothingThenRecover) {
  const std::string customer = IngestJan();
  ASSERT_FALSE(customer.empty());
  ASSERT_THAT(ReadEventually("service/support-desk", customer, "customer-care-human").status(), IsOk());
  // Only the audit service loses its database: it may no longer connect, and its
  // connections are cut.
  auto admin = [&](const std::string& sql) {
    pqxx::connection c(db_->AdminDsn());
    pqxx::nontransaction tx(c);
    tx.exec(sql);
  };
  const std::string name = db_->name();
  admin("REVOKE CONNECT ON DATABASE \"" + name + "\" FROM PUBLIC");
  admin("GRANT CONNECT ON DATABASE \"" + name + "\" TO cdp_consent, cdp_ingest, cdp_profile, postgres");
  admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'cdp_audit' AND datname = '" + name + "'");
  for (int i = 0; i < 3; ++i) {
    auto view = Read("service/support-desk", customer, "customer-care-human");
    EXPECT_TRUE(absl::IsUnavailable(view.status())) << view.status();
  }
  // Back: reads work again, and the log holds exactly the reads that returned data.
  admin("GRANT CONNECT ON DATABASE \"" + name + "\" TO cdp_audit");
  auto again = ReadEventually("service/support-desk", customer, "customer-care-human");
  ASSERT_THAT(again.status(), IsOk());
  EXPECT_EQ(again->access_event_position(), 1);
  auto op = v1::AuditService::NewStub(pki_->Channel(audit_.port, "operator/cdpctl"));
  grpc::ClientContext ctx;
  v1::VerifyLogResponse verified;
  const grpc::Status status = op->VerifyLog(&ctx, v1::VerifyLogRequest(), &verified);
  ASSERT_TRUE(status.ok()) << status.error_code() << ": " << status.error_message();
  EXPECT_TRUE(verified.ok()) << verified.problem();
  EXPECT_EQ(verified.events_checked(), 2);
}

TEST_F(ReadPathTest, SearchByEmailFindsTheProfileThroughKeyedHashesAndLogsTheHit) {
  const std::string customer = IngestJan();
  ASSERT_FALSE(customer.empty());
  auto stub = v1::ProfileService::NewStub(pki_->Channel(profile_.port, "service/support-desk"));
  v1::SearchProfilesRequest req;
  req.set_email("Jan.Berg@Example.nl");
  req.mutable_context()->set_purpose("customer-care-human");
  req.mutable_context()->mutable_read_mask()->add_paths("given_name");
  req.mutable_context()->mutable_acting_party()->set_kind(v1::ActingParty::HUMAN_AGENT);
  req.mutable_context()->mutable_acting_party()->set_id("agent-7");
  req.mutable_context()->mutable_justification()->set_code(v1::Justification::CUSTOMER_REQUEST);
  absl::Status status = absl::UnavailableError("not yet");
  v1::SearchProfilesResponse found;
  for (const absl::Time deadline = absl::Now() + absl::Seconds(30); absl::IsUnavailable(status) && absl::Now() < deadline;) {
    grpc::ClientContext ctx;
    status = rpc::FromGrpcStatus(stub->SearchProfiles(&ctx, req, &found));
    if (absl::IsUnavailable(status)) absl::Notification().WaitForNotificationWithTimeout(absl::Milliseconds(50));
  }
  ASSERT_THAT(status, IsOk());
  ASSERT_EQ(found.profiles_size(), 1);
  EXPECT_EQ(found.profiles(0).profile_id(), customer);
  EXPECT_EQ(found.profiles(0).fields().at("given_name"), "Jan");
  EXPECT_FALSE(found.profiles(0).access_event_id().empty());
  req.set_email("not-an-address");
  grpc::ClientContext ctx;
  EXPECT_EQ(stub->SearchProfiles(&ctx, req, &found).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ReadPathTest, AuditorsSearchAndExportTheLogAndTheirOwnLookIsLogged) {
  const std::string customer = IngestJan();
  ASSERT_FALSE(customer.empty());
  auto care = ReadEventually("service/support-desk", customer, "customer-care-human");
  ASSERT_THAT(care.status(), IsOk());
  ASSERT_THAT(Read("service/marketing", customer, "direct-marketing").status(), IsOk());
  ASSERT_TRUE(absl::IsPermissionDenied(Read("service/marketing", customer, "billing").status()));

  auto dpo = v1::AuditService::NewStub(pki_->Channel(audit_.port, "auditor/dpo"));
  v1::QueryAccessEventsRequest q;
  q.set_caller("spiffe://cdp.local/service/marketing");
  q.set_outcome("denied");
  q.set_language("en");
  q.mutable_justification()->set_code(v1::Justification::LEGAL_REQUEST);
  q.mutable_justification()->set_reference("dpo-review-2026-11");
  {
    grpc::ClientContext ctx;
    v1::ListAccessEventsResponse found;
    ASSERT_TRUE(dpo->QueryAccessEvents(&ctx, q, &found).ok());
    // Marketing's two reads released nothing (direct marketing is off by default; billing
    // it may not claim).
    ASSERT_EQ(found.events_size(), 2);
    EXPECT_EQ(found.events(0).purpose(), "billing");
    EXPECT_NE(found.events(0).explanation().find("was shown nothing"), std::string::npos);
  }
  q.set_field("email");
  q.clear_outcome();
  q.set_customer_id(customer);
  q.set_format("csv");
  std::string csv;
  {
    grpc::ClientContext ctx;
    auto reader = dpo->ExportAccessEvents(&ctx, q);
    v1::ExportChunk chunk;
    while (reader->Read(&chunk)) csv += chunk.data();
    ASSERT_TRUE(reader->Finish().ok());
  }
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 3) << csv;  // header and two events
  EXPECT_NE(csv.find("direct-marketing"), std::string::npos);
  // Without a reason, an auditor sees nothing; a service without the permission neither.
  q.clear_justification();
  {
    grpc::ClientContext ctx;
    v1::ListAccessEventsResponse found;
    EXPECT_EQ(dpo->QueryAccessEvents(&ctx, q, &found).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  {
    grpc::ClientContext ctx;
    v1::ListAccessEventsResponse found;
    EXPECT_EQ(v1::AuditService::NewStub(pki_->Channel(audit_.port, "service/marketing"))
                  ->QueryAccessEvents(&ctx, q, &found)
                  .error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  // The DPO's two looks are in the log too: one about the log, one about this customer.
  q.Clear();
  q.set_purpose("access-log-review");
  q.mutable_justification()->set_code(v1::Justification::LEGAL_REQUEST);
  grpc::ClientContext ctx;
  v1::ListAccessEventsResponse looks;
  ASSERT_TRUE(dpo->QueryAccessEvents(&ctx, q, &looks).ok());
  EXPECT_EQ(looks.events_size(), 3);  // the two before, and this one
  EXPECT_EQ(looks.events(0).caller(), "spiffe://cdp.local/auditor/dpo");
}

// The client keeps its own ledger of every read that returned data; the audit service is
// killed with SIGKILL in the middle of the load and started again on its port. Afterwards
// every ledger entry is in the log, at the position the read was told, with its event id.
TEST_F(ReadPathTest, EveryReadThatReturnedDataIsInTheLogAfterTheAuditServiceWasKilled) {
  const std::string customer = IngestJan();
  ASSERT_FALSE(customer.empty());
  auto first = ReadEventually("service/support-desk", customer, "customer-care-human");
  ASSERT_THAT(first.status(), IsOk());

  absl::Mutex mu;
  std::map<int64_t, std::string> ledger;  // position -> event id, for every read with data
  int failed = 0;
  std::atomic<bool> stop{false};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        auto view = Read("service/support-desk", customer, "customer-care-human");
        absl::MutexLock lock(&mu);
        if (view.ok()) {
          ASSERT_FALSE(view->fields().empty());
          ledger[view->access_event_position()] = view->access_event_id();
        } else {
          ++failed;
        }
      }
    });
  }
  auto ledger_size = [&] {
    absl::MutexLock lock(&mu);
    return ledger.size();
  };
  auto wait_for = [&](size_t n) {
    for (const absl::Time deadline = absl::Now() + absl::Seconds(60); ledger_size() < n && absl::Now() < deadline;) {
      absl::Notification().WaitForNotificationWithTimeout(absl::Milliseconds(20));
    }
  };
  wait_for(50);
  const int port = audit_.port;
  audit_.process->Signal(SIGKILL);
  ASSERT_THAT(audit_.process->WaitForExit(absl::Seconds(10)).status(), IsOk());
  const size_t before_restart = ledger_size();
  auto restarted = testing::StartService("audit", *pki_, *db_, {"--sign_interval=100ms"}, port);
  ASSERT_THAT(restarted.status(), IsOk());
  audit_ = *std::move(restarted);
  wait_for(before_restart + 50);
  stop = true;
  for (auto& t : readers) t.join();
  ASSERT_GE(ledger.size(), before_restart + 50) << "reads never resumed after the restart";

  // Every read the client got data from is in the log, as it was told.
  auto portal = v1::AuditService::NewStub(pki_->Channel(audit_.port, "service/portal"));
  std::map<int64_t, std::string> logged;
  v1::ListAccessEventsRequest list;
  list.set_customer_id(customer);
  list.mutable_page()->set_page_size(1000);
  do {
    grpc::ClientContext c;
    v1::ListAccessEventsResponse page;
    ASSERT_TRUE(portal->ListAccessEvents(&c, list, &page).ok());
    for (const auto& e : page.events()) logged[e.position()] = e.event_id();
    list.mutable_page()->set_page_token(page.next_page_token());
  } while (!list.page().page_token().empty());
  for (const auto& [position, id] : ledger) {
    auto it = logged.find(position);
    ASSERT_TRUE(it != logged.end()) << "a read with data at position " << position << " is not in the log";
    EXPECT_EQ(it->second, id) << position;
  }
  // And the log, rebuilt after the kill, is intact.
  auto op = v1::AuditService::NewStub(pki_->Channel(audit_.port, "operator/cdpctl"));
  grpc::ClientContext ctx;
  v1::VerifyLogResponse verified;
  ASSERT_TRUE(op->VerifyLog(&ctx, v1::VerifyLogRequest(), &verified).ok());
  EXPECT_TRUE(verified.ok()) << verified.problem();
}

}  // namespace
}  // namespace cdp
