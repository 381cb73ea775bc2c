// End to end: the real cdp-consent binary (two instances on one database) over mTLS on
// loopback, and consent replicas as enforcement points keep them.
#include "consent/replica.h"

#include <signal.h>

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "cdp/v1/consent.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/client.h"
#include "tests/testing/platform.h"
#include "tests/testing/status_matchers.h"

namespace cdp {
namespace {

using ::cdp::testing::IsOk;
using ::cdp::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kCustomer[] = "c-1001";

class ConsentReplicaTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = new testing::TestPki({"service/consent", "service/profile", "service/portal",
                                 "operator/cdpctl", "service/stranger"});
  }
  static void TearDownTestSuite() { delete pki_; }

  void SetUp() override {
    CDP_REQUIRE_PG();
    db_ = std::make_unique<testing::TestDatabase>();
    a_ = StartConsent();
    b_ = StartConsent();
    auto op = Stub(a_.port, "operator/cdpctl");
    grpc::ClientContext ctx;
    v1::RegisterCustomersRequest reg;
    reg.add_customer_ids(kCustomer);
    reg.add_customer_ids("c-1002");
    v1::RegisterCustomersResponse done;
    ASSERT_TRUE(op->RegisterCustomers(&ctx, reg, &done).ok());
  }

  testing::RunningService StartConsent(int port = 0) {
    auto r = testing::StartService("consent", *pki_, *db_, {}, port);
    EXPECT_THAT(r.status(), IsOk());
    if (!r.ok()) return {};
    EXPECT_THAT(rpc::WaitUntilServing(*pki_->Channel(r->port, "service/profile"),
                                      "cdp.v1.ConsentService", absl::Seconds(60)),
                IsOk())
        << r->process->Output();
    return *std::move(r);
  }

  std::unique_ptr<v1::ConsentService::Stub> Stub(int port, const std::string& identity) {
    return v1::ConsentService::NewStub(pki_->Channel(port, identity));
  }

  std::unique_ptr<consent::ConsentReplica> Replica(int port) {
    return std::make_unique<consent::ConsentReplica>(consent::ConsentReplica::Options{
        .connect = [port] { return pki_->Channel(port, "service/profile"); }});
  }

  // Sets the customer's choice for e-mail / direct marketing through the portal's identity;
  // returns the new version, or -1.
  int64_t SetMarketingEmail(int port, bool allow) {
    auto portal = Stub(port, "service/portal");
    v1::UpdateConsentRequest r;
    r.set_customer_id(kCustomer);
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

  static testing::TestPki* pki_;
  std::unique_ptr<testing::TestDatabase> db_;
  testing::RunningService a_;
  testing::RunningService b_;
  int key_ = 0;
};

testing::TestPki* ConsentReplicaTest::pki_ = nullptr;

TEST_F(ConsentReplicaTest, NoReplicaAllowsAfterItAcknowledgedTheRevocation) {
  // Two replicas follow instance A and one follows instance B; the changes go through A.
  std::vector<std::unique_ptr<consent::ConsentReplica>> replicas;
  replicas.push_back(Replica(a_.port));
  replicas.push_back(Replica(a_.port));
  replicas.push_back(Replica(b_.port));
  const int64_t granted = SetMarketingEmail(a_.port, true);
  ASSERT_GT(granted, 0);
  for (auto& r : replicas) {
    ASSERT_THAT(r->WaitForVersion(kCustomer, granted, absl::Seconds(30)), IsOk());
    ASSERT_THAT(r->WaitUntilCurrent(absl::Seconds(30)), IsOk());
    auto d = r->Decide(kCustomer, "direct-marketing", "email");
    ASSERT_THAT(d.status(), IsOk());
    EXPECT_TRUE(d->allow);
  }

  // Readers ask every replica as fast as they can while the customer revokes. Each records
  // the highest version it has seen and any "allow" at or after the revoking version, and
  // any answer from an older version after having seen the revocation.
  std::atomic<bool> stop{false};
  std::atomic<int64_t> revoked{INT64_MAX};
  std::atomic<int> allowed_after{0}, went_back{0};
  std::atomic<int64_t> reads{0};
  std::vector<std::thread> readers;
  for (auto& r : replicas) {
    readers.emplace_back([&, replica = r.get()] {
      const auto& catalog_view = replica->Lookup(kCustomer);
      ASSERT_THAT(catalog_view.status(), IsOk());
      const auto purpose = *catalog_view->catalog->FindPurpose("direct-marketing");
      const auto field = *catalog_view->catalog->FindField("email");
      bool seen_revocation = false;
      while (!stop.load()) {
        auto view = replica->Lookup(kCustomer);
        if (!view.ok()) continue;  // refused: stale consent is never used
        ++reads;
        const bool allow = view->Decide(purpose, field, absl::Now()).allow;
        if (view->version() >= revoked.load()) {
          seen_revocation = true;
          if (allow) ++allowed_after;
        } else if (seen_revocation) {
          ++went_back;
        }
      }
    });
  }
  const int64_t revoked_version = SetMarketingEmail(a_.port, false);
  ASSERT_GT(revoked_version, granted);
  revoked.store(revoked_version);
  for (auto& r : replicas) {
    ASSERT_THAT(r->WaitForVersion(kCustomer, revoked_version, absl::Seconds(30)), IsOk());
  }
  // Keep reading a little after every replica acknowledged.
  absl::Notification().WaitForNotificationWithTimeout(absl::Milliseconds(200));
  stop.store(true);
  for (auto& t : readers) t.join();
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(allowed_after.load(), 0);
  EXPECT_EQ(went_back.load(), 0);
  for (auto& r : replicas) {
    ASSERT_THAT(r->WaitUntilCurrent(absl::Seconds(30)), IsOk());
    auto d = r->Decide(kCustomer, "direct-marketing", "email");
    ASSERT_THAT(d.status(), IsOk());
    EXPECT_FALSE(d->allow);
    EXPECT_EQ(d->rule, consent::Rule::kCustomerFieldChoice);
    EXPECT_EQ(d->consent_version, revoked_version);
  }
}

TEST_F(ConsentReplicaTest, ReplicaCutOffFromTheServiceRefusesThenCatchesUp) {
  auto replica = Replica(a_.port);
  ASSERT_THAT(replica->WaitUntilCurrent(absl::Seconds(30)), IsOk());
  ASSERT_THAT(replica->Decide(kCustomer, "direct-marketing", "email").status(), IsOk());

  // Freeze instance A: its connection stays open but says nothing any more.
  a_.process->Signal(SIGSTOP);
  absl::StatusOr<consent::Decision> refused;
  for (absl::Time end = absl::Now() + absl::Seconds(30); absl::Now() < end;) {
    refused = replica->Decide(kCustomer, "direct-marketing", "email");
    if (!refused.ok()) break;
    absl::Notification().WaitForNotificationWithTimeout(absl::Milliseconds(5));
  }
  EXPECT_THAT(refused.status(), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("not current")));
  EXPECT_FALSE(replica->health().current);
  EXPECT_THAT(replica->Lookup("c-1002").status(), StatusIs(absl::StatusCode::kUnavailable));

  // Meanwhile the customer changes their mind through instance B.
  const int64_t version = SetMarketingEmail(b_.port, true);
  ASSERT_GT(version, 0);
  EXPECT_THAT(replica->Decide(kCustomer, "direct-marketing", "email").status(),
              StatusIs(absl::StatusCode::kUnavailable));

  // A wakes up, finds B's change in the database and passes it on.
  a_.process->Signal(SIGCONT);
  ASSERT_THAT(replica->WaitForVersion(kCustomer, version, absl::Seconds(30)), IsOk());
  ASSERT_THAT(replica->WaitUntilCurrent(absl::Seconds(30)), IsOk());
  auto d = replica->Decide(kCustomer, "direct-marketing", "email");
  ASSERT_THAT(d.status(), IsOk());
  EXPECT_TRUE(d->allow);
}

TEST_F(ConsentReplicaTest, ReplicaResumesAfterTheServiceRestartsWithoutLosingAChange) {
  auto replica = Replica(a_.port);
  ASSERT_THAT(replica->WaitUntilCurrent(absl::Seconds(30)), IsOk());
  const int port = a_.port;
  a_.process->Signal(SIGKILL);
  ASSERT_THAT(a_.process->WaitForExit(absl::Seconds(10)).status(), IsOk());
  const int64_t version = SetMarketingEmail(b_.port, true);
  ASSERT_GT(version, 0);
  a_ = StartConsent(port);
  ASSERT_THAT(replica->WaitForVersion(kCustomer, version, absl::Seconds(30)), IsOk())
      << replica->health().last_error << " after " << replica->health().reconnects
      << " reconnects\n" << a_.process->Output();
  ASSERT_THAT(replica->WaitUntilCurrent(absl::Seconds(30)), IsOk());
  EXPECT_GE(replica->health().reconnects, 1);
  EXPECT_EQ(replica->health().customers, 2);
  auto d = replica->Decide(kCustomer, "direct-marketing", "email");
  ASSERT_THAT(d.status(), IsOk());
  EXPECT_TRUE(d->allow);
  EXPECT_THAT(replica->Lookup("c-9999").status(), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(replica->Lookup(kCustomer, version + 1).status(),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("caller needs")));
}

TEST_F(ConsentReplicaTest, ShutdownEndsWatchStreamsInsteadOfWaitingOutTheDrain) {
  // An instance with a drain deadline far longer than the wait below: if open WatchConsent
  // streams held the drain, the process would not exit in time.
  auto slow = testing::StartService("consent", *pki_, *db_, {"--drain_seconds=300"});
  ASSERT_THAT(slow.status(), IsOk());
  ASSERT_THAT(rpc::WaitUntilServing(*pki_->Channel(slow->port, "service/profile"), "",
                                    absl::Seconds(60)),
              IsOk());
  auto replica = Replica(slow->port);
  ASSERT_THAT(replica->WaitUntilCurrent(absl::Seconds(30)), IsOk());
  slow->process->Signal(SIGTERM);
  EXPECT_THAT(slow->process->WaitForExit(absl::Seconds(60)), testing::IsOkAndHolds(0))
      << slow->process->Output();
}

TEST_F(ConsentReplicaTest, GrpcErrorsNameTheProblem) {
  // A certificate from the platform's CA whose identity the catalog does not know.
  auto stranger = Stub(a_.port, "service/stranger");
  grpc::ClientContext c1;
  v1::Catalog catalog;
  grpc::Status s = stranger->GetCatalog(&c1, v1::GetCatalogRequest(), &catalog);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), HasSubstr("spiffe://cdp.local/service/stranger"));

  auto portal = Stub(a_.port, "service/portal");
  v1::UpdateConsentRequest r;
  r.set_customer_id(kCustomer);
  r.set_idempotency_key("x");
  r.set_channel(v1::PHONE);
  r.mutable_acting_party()->set_kind(v1::ActingParty::HUMAN_AGENT);
  auto* c = r.add_choices();
  c->set_field("emial");
  c->set_purpose("direct-marketing");
  grpc::ClientContext c2;
  v1::UpdateConsentResponse response;
  s = portal->UpdateConsent(&c2, r, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("choices[0].field: unknown field \"emial\""));

  c->set_field("invoice_history");
  c->set_purpose("legal-retention");
  grpc::ClientContext c3;
  s = portal->UpdateConsent(&c3, r, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);

  r.set_customer_id("c-404");
  c->set_field("email");
  c->set_purpose("direct-marketing");
  grpc::ClientContext c4;
  s = portal->UpdateConsent(&c4, r, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace cdp
