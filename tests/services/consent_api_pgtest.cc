// ConsentApi over PgConsentStore against the real PostgreSQL of tests/run.sh: history,
// concurrency, idempotency, validation, receipts and the change feed.
#include "services/consent/consent_api.h"

#include <atomic>
#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "consent/state.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "pqxx/pqxx"
#include "services/common/proto_time.h"
#include "services/consent/pg_consent_store.h"
#include "storage/migrate.h"
#include "storage/migrations.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_database.h"

namespace cdp::consent {
namespace {

using ::cdp::testing::IsOk;
using ::cdp::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::SizeIs;

const std::string kCatalog = std::string(CDP_SOURCE_DIR) + "/consent/catalog/default.textproto";
const std::string kPortal = "spiffe://cdp.local/service/portal";
const std::string kOperator = "spiffe://cdp.local/operator/cdpctl";
const std::string kMarketing = "spiffe://cdp.local/service/marketing";
const std::string kProfile = "spiffe://cdp.local/service/profile";

class ConsentApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CDP_REQUIRE_PG();
    db_ = std::make_unique<testing::TestDatabase>();
    ASSERT_THAT(storage::ApplyMigrations(db_->AdminDsn(), storage::migrations::consent()).status(),
                IsOk());
    pool_ = std::make_unique<storage::Pool>(storage::PoolOptions{
        .dsn = db_->DsnAs("cdp_consent"), .size = 8, .statements = PgConsentStore::Statements()});
    ASSERT_THAT(pool_->Connect(), IsOk());
    auto catalog = Catalog::FromFile(kCatalog);
    ASSERT_THAT(catalog.status(), IsOk());
    catalog_ = *catalog;
    auto signer = ReceiptSigner::FromPem(NewEd25519PrivateKeyPem());
    ASSERT_THAT(signer.status(), IsOk());
    signer_ = *std::move(signer);
    store_ = std::make_unique<PgConsentStore>(*pool_);
    feed_ = std::make_unique<ChangeFeed>(*store_, ChangeFeed::Options{.poll_interval = absl::Milliseconds(5)});
    api_ = std::make_unique<ConsentApi>(catalog_, *store_, *signer_, *feed_, ConsentApi::Options{});
    v1::RegisterCustomersRequest reg;
    reg.add_customer_ids("c-1");
    reg.add_customer_ids("c-2");
    ASSERT_THAT(api_->RegisterCustomers(kOperator, reg).status(), IsOk());
  }

  static v1::UpdateConsentRequest Update(const std::string& customer, const std::string& key,
                                         std::vector<v1::ConsentChoice> choices) {
    v1::UpdateConsentRequest r;
    r.set_customer_id(customer);
    r.set_idempotency_key(key);
    r.set_channel(v1::PORTAL);
    r.mutable_acting_party()->set_kind(v1::ActingParty::DATA_SUBJECT);
    for (auto& c : choices) *r.add_choices() = std::move(c);
    return r;
  }
  static v1::ConsentChoice FieldChoice(const std::string& field, const std::string& purpose,
                                       bool allow) {
    v1::ConsentChoice c;
    c.set_field(field);
    c.set_purpose(purpose);
    c.set_allow(allow);
    return c;
  }
  static v1::ConsentChoice CategoryChoice(const std::string& category, const std::string& purpose,
                                          bool allow) {
    v1::ConsentChoice c;
    c.set_category(category);
    c.set_purpose(purpose);
    c.set_allow(allow);
    return c;
  }
  const v1::ConsentCell& Cell(const v1::ConsentState& state, const std::string& field,
                              const std::string& purpose) {
    for (const auto& cell : state.cells()) {
      if (cell.field() == field && cell.purpose() == purpose) return cell;
    }
    ADD_FAILURE() << "no cell " << field << " x " << purpose;
    static v1::ConsentCell none;
    return none;
  }
  int64_t Version(const std::string& customer) {
    v1::GetConsentRequest r;
    r.set_customer_id(customer);
    auto state = api_->GetConsent(kPortal, r);
    EXPECT_THAT(state.status(), IsOk());
    return state.ok() ? state->version() : -1;
  }
  std::vector<v1::ConsentChange> AllHistory(const std::string& customer) {
    std::vector<v1::ConsentChange> all;
    v1::ListConsentHistoryRequest r;
    r.set_customer_id(customer);
    r.mutable_page()->set_page_size(1000);
    auto page = api_->ListConsentHistory(kPortal, r);
    EXPECT_THAT(page.status(), IsOk());
    if (page.ok()) all.assign(page->changes().begin(), page->changes().end());
    return all;
  }

  std::unique_ptr<testing::TestDatabase> db_;
  std::unique_ptr<storage::Pool> pool_;
  std::shared_ptr<const Catalog> catalog_;
  std::unique_ptr<ReceiptSigner> signer_;
  std::unique_ptr<PgConsentStore> store_;
  std::unique_ptr<ChangeFeed> feed_;
  std::unique_ptr<ConsentApi> api_;
};

TEST_F(ConsentApiTest, NewCustomerGetsTheDefaultsOfEachLegalBasis) {
  v1::GetConsentRequest r;
  r.set_customer_id("c-1");
  auto state = api_->GetConsent(kPortal, r);
  ASSERT_THAT(state.status(), IsOk());
  EXPECT_EQ(state->version(), 0);
  EXPECT_EQ(state->catalog_version(), catalog_->version());
  EXPECT_EQ(state->cells_size(), catalog_->field_count() * catalog_->purpose_count());
  EXPECT_EQ(Cell(*state, "email", "direct-marketing").rule(), "consent_default_off");
  EXPECT_FALSE(Cell(*state, "email", "direct-marketing").allow());
  EXPECT_EQ(Cell(*state, "email", "billing").rule(), "legal_basis_always_on");
  EXPECT_TRUE(Cell(*state, "email", "billing").allow());
  EXPECT_EQ(Cell(*state, "contact_history", "service-analytics").rule(), "legitimate_interest_default");
  EXPECT_TRUE(Cell(*state, "contact_history", "service-analytics").allow());
  EXPECT_EQ(Cell(*state, "email", "service-analytics").rule(), "outside_purpose_scope");
}

TEST_F(ConsentApiTest, UnknownCustomerIsNotFound) {
  v1::GetConsentRequest r;
  r.set_customer_id("c-404");
  EXPECT_THAT(api_->GetConsent(kPortal, r).status(), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(api_->UpdateConsent(kPortal, Update("c-404", "k", {FieldChoice("email", "direct-marketing", true)})).status(),
              StatusIs(absl::StatusCode::kNotFound));
  v1::ListConsentHistoryRequest h;
  h.set_customer_id("c-404");
  EXPECT_THAT(api_->ListConsentHistory(kPortal, h).status(), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(ConsentApiTest, CallersNeedTheCatalogAndTheirPermission) {
  v1::GetConsentRequest r;
  r.set_customer_id("c-1");
  EXPECT_THAT(api_->GetConsent("spiffe://cdp.local/service/stranger", r).status(),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("not in the consent catalog")));
  EXPECT_THAT(api_->GetCatalog("spiffe://cdp.local/service/stranger").status(),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(api_->UpdateConsent(kMarketing, Update("c-1", "k", {FieldChoice("email", "direct-marketing", true)})).status(),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("MANAGE_CONSENT")));
  EXPECT_THAT(api_->GetCatalog(kMarketing).status(), IsOk());
  EXPECT_EQ(Version("c-1"), 0);
}

TEST_F(ConsentApiTest, ChoiceIsAppliedAndExplainedInTheMatrix) {
  auto done = api_->UpdateConsent(
      kPortal, Update("c-1", "k1", {FieldChoice("email", "direct-marketing", true),
                                    CategoryChoice("interactions", "service-analytics", false)}));
  ASSERT_THAT(done.status(), IsOk());
  EXPECT_EQ(done->version(), 1);
  v1::GetConsentRequest r;
  r.set_customer_id("c-1");
  auto state = api_->GetConsent(kPortal, r);
  ASSERT_THAT(state.status(), IsOk());
  EXPECT_EQ(state->version(), 1);
  const v1::ConsentCell& cell = Cell(*state, "email", "direct-marketing");
  EXPECT_TRUE(cell.allow());
  EXPECT_EQ(cell.rule(), "customer_field_choice");
  EXPECT_EQ(cell.choice().channel(), v1::PORTAL);
  EXPECT_TRUE(cell.choice().has_given_at());
  EXPECT_EQ(Cell(*state, "contact_history", "service-analytics").rule(), "customer_category_choice");
  EXPECT_FALSE(Cell(*state, "contact_history", "service-analytics").allow());
  EXPECT_EQ(Cell(*state, "order_history", "service-analytics").rule(), "legitimate_interest_default");
  EXPECT_TRUE(Cell(*state, "order_history", "service-analytics").allow());
  // Other customers are untouched.
  EXPECT_EQ(Version("c-2"), 0);
}

TEST_F(ConsentApiTest, BadInputNamesTheOffenderAndStoresNothing) {
  auto expect_refused = [&](std::vector<v1::ConsentChoice> choices, absl::StatusCode code,
                            const std::string& text) {
    // A good choice first: the batch must fail as a whole.
    choices.insert(choices.begin(), FieldChoice("email", "direct-marketing", true));
    EXPECT_THAT(api_->UpdateConsent(kPortal, Update("c-1", "bad", choices)).status(),
                StatusIs(code, HasSubstr(text)));
  };
  expect_refused({FieldChoice("emial", "direct-marketing", true)}, absl::StatusCode::kInvalidArgument,
                 "choices[1].field: unknown field \"emial\"");
  expect_refused({CategoryChoice("kontact", "direct-marketing", true)},
                 absl::StatusCode::kInvalidArgument, "choices[1].category: unknown category \"kontact\"");
  expect_refused({FieldChoice("email", "spam", true)}, absl::StatusCode::kInvalidArgument,
                 "choices[1].purpose: unknown purpose \"spam\"");
  expect_refused({FieldChoice("phone_mobile", "order-delivery", false)},
                 absl::StatusCode::kFailedPrecondition, "cannot be switched on or off");
  const std::string& reason =
      catalog_->purpose(*catalog_->FindPurpose("legal-retention")).locked_reason().en();
  expect_refused({CategoryChoice("transactions", "legal-retention", false)},
                 absl::StatusCode::kFailedPrecondition, reason);
  auto missing_key = Update("c-1", "", {FieldChoice("email", "direct-marketing", true)});
  EXPECT_THAT(api_->UpdateConsent(kPortal, missing_key).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("idempotency_key")));
  auto bad_id = Update("c 1; drop", "k", {FieldChoice("email", "direct-marketing", true)});
  EXPECT_THAT(api_->UpdateConsent(kPortal, bad_id).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("customer_id")));
  EXPECT_EQ(Version("c-1"), 0);
  EXPECT_THAT(AllHistory("c-1"), SizeIs(1));  // the registration only
}

TEST_F(ConsentApiTest, ReceiptIsSignedKantaraShapedAndVerifiesWithThePublishedKey) {
  auto req = Update("c-1", "k1", {FieldChoice("email", "direct-marketing", true),
                                  FieldChoice("phone_mobile", "direct-marketing", true)});
  req.set_language("en");
  auto done = api_->UpdateConsent(kPortal, req);
  ASSERT_THAT(done.status(), IsOk());
  auto key = api_->GetReceiptKey(kPortal);
  ASSERT_THAT(key.status(), IsOk());
  EXPECT_EQ(done->receipt().key_id(), key->key_id());
  auto payload = VerifyJws(done->receipt().jws(), key->public_key_pem());
  ASSERT_THAT(payload.status(), IsOk());
  EXPECT_EQ(*payload, done->receipt().json());

  google::protobuf::Struct json;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(*payload, &json).ok());
  const auto& f = json.fields();
  EXPECT_EQ(f.at("version").string_value(), "KI-CR-v1.1.0");
  EXPECT_EQ(f.at("jurisdiction").string_value(), "NL");
  EXPECT_EQ(f.at("collectionMethod").string_value(), "portal");
  EXPECT_EQ(f.at("consentReceiptID").string_value(), done->receipt().receipt_id());
  EXPECT_EQ(f.at("piiPrincipalId").string_value(), "c-1");
  EXPECT_EQ(f.at("piiControllers").list_value().values(0).struct_value().fields().at("piiController").string_value(),
            catalog_->proto().controller().name());
  const auto& service = f.at("services").list_value().values(0).struct_value().fields();
  EXPECT_EQ(service.at("service").string_value(),
            catalog_->purpose(*catalog_->FindPurpose("direct-marketing")).title().en());
  const auto& purpose = service.at("purposes").list_value().values(0).struct_value().fields();
  EXPECT_EQ(purpose.at("purposeCategory").list_value().values(0).string_value(), "dpv:DirectMarketing");
  EXPECT_EQ(purpose.at("cdpChoice").string_value(), "granted");
  EXPECT_EQ(purpose.at("piiCategory").list_value().values_size(), 2);

  // Tampering with the payload breaks the signature.
  std::string forged = done->receipt().jws();
  forged[forged.find('.') + 5] ^= 1;
  EXPECT_THAT(VerifyJws(forged, key->public_key_pem()).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  auto other = ReceiptSigner::FromPem(NewEd25519PrivateKeyPem());
  ASSERT_THAT(other.status(), IsOk());
  EXPECT_THAT(VerifyJws(done->receipt().jws(), (*other)->public_key_pem()).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("does not verify")));
}

TEST_F(ConsentApiTest, RetryWithTheSameKeyAnswersTheFirstResponse) {
  auto req = Update("c-1", "retry-me", {FieldChoice("email", "direct-marketing", true)});
  auto first = api_->UpdateConsent(kPortal, req);
  ASSERT_THAT(first.status(), IsOk());
  // Something else happens in between.
  ASSERT_THAT(api_->UpdateConsent(kPortal, Update("c-1", "other", {FieldChoice("given_name", "personalised-offers", true)})).status(),
              IsOk());
  auto again = api_->UpdateConsent(kPortal, req);
  ASSERT_THAT(again.status(), IsOk());
  EXPECT_EQ(again->version(), first->version());
  EXPECT_EQ(again->receipt().jws(), first->receipt().jws());
  EXPECT_EQ(Version("c-1"), 2);
  EXPECT_THAT(AllHistory("c-1"), SizeIs(3));

  auto changed = req;
  changed.mutable_choices(0)->set_allow(false);
  EXPECT_THAT(api_->UpdateConsent(kPortal, changed).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("idempotency_key")));
  // The key is per customer.
  EXPECT_THAT(api_->UpdateConsent(kPortal, Update("c-2", "retry-me", {FieldChoice("email", "direct-marketing", true)})).status(),
              IsOk());
}

TEST_F(ConsentApiTest, StaleExpectedVersionIsAbortedWithTheCurrentOne) {
  ASSERT_THAT(api_->UpdateConsent(kPortal, Update("c-1", "a", {FieldChoice("email", "direct-marketing", true)})).status(), IsOk());
  auto stale = Update("c-1", "b", {FieldChoice("email", "direct-marketing", false)});
  stale.set_expected_version(7);
  EXPECT_THAT(api_->UpdateConsent(kPortal, stale).status(),
              StatusIs(absl::StatusCode::kAborted, HasSubstr("consent version is 1, not 7")));
  stale.set_expected_version(1);
  EXPECT_THAT(api_->UpdateConsent(kPortal, stale).status(), IsOk());
  EXPECT_EQ(Version("c-1"), 2);
}

TEST_F(ConsentApiTest, ConcurrentUpdatesOfOneCustomerLoseNothing) {
  constexpr int kThreads = 6;
  constexpr int kEach = 15;
  const std::vector<std::string> fields = {"email", "phone_mobile", "phone_home", "given_name",
                                           "family_name", "postal_address"};
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        // Each thread owns a field; the last write of each thread must survive.
        auto r = Update("c-1", absl::StrCat("t", t, "-", i),
                        {FieldChoice(fields[static_cast<size_t>(t)], "direct-marketing", i % 2 == 0)});
        if (!api_->UpdateConsent(kPortal, r).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Version("c-1"), kThreads * kEach);
  std::vector<v1::ConsentChange> history = AllHistory("c-1");
  ASSERT_THAT(history, SizeIs(kThreads * kEach + 1));
  // Versions are dense, and the current state is exactly the history replayed.
  google::protobuf::RepeatedPtrField<v1::ConsentChoice> replayed;
  for (size_t i = history.size(); i-- > 0;) {
    EXPECT_EQ(history[i].version(), static_cast<int64_t>(history.size() - 1 - i));
    std::vector<v1::ConsentChoice> delta(history[i].choices().begin(), history[i].choices().end());
    auto merged = MergeChoices(replayed, delta);
    replayed.Clear();
    for (auto& c : merged) *replayed.Add() = c;
  }
  auto current = store_->Current("c-1");
  ASSERT_THAT(current.status(), IsOk());
  ASSERT_EQ(current->choices_size(), replayed.size());
  for (int i = 0; i < replayed.size(); ++i) {
    EXPECT_EQ(current->choices(i).SerializeAsString(), replayed[i].SerializeAsString()) << i;
  }
  ASSERT_EQ(current->choices_size(), kThreads);
  // Each thread's last write (i = kEach - 1, even) survived.
  for (const auto& c : current->choices()) EXPECT_TRUE(c.allow()) << c.field();
}

TEST_F(ConsentApiTest, HistoryIsNewestFirstAndPaginated) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_THAT(api_->UpdateConsent(kPortal, Update("c-1", absl::StrCat("k", i),
                                                    {FieldChoice("email", "direct-marketing", i % 2 == 0)})).status(),
                IsOk());
  }
  v1::ListConsentHistoryRequest r;
  r.set_customer_id("c-1");
  r.mutable_page()->set_page_size(2);
  std::vector<int64_t> versions;
  for (int pages = 0; pages < 10; ++pages) {
    auto page = api_->ListConsentHistory(kPortal, r);
    ASSERT_THAT(page.status(), IsOk());
    for (const auto& c : page->changes()) versions.push_back(c.version());
    if (page->next_page_token().empty()) break;
    r.mutable_page()->set_page_token(page->next_page_token());
  }
  EXPECT_EQ(versions, (std::vector<int64_t>{5, 4, 3, 2, 1, 0}));
  auto newest = AllHistory("c-1")[0];
  EXPECT_EQ(newest.channel(), v1::PORTAL);
  EXPECT_EQ(newest.caller(), kPortal);
  EXPECT_EQ(newest.acting_party().kind(), v1::ActingParty::DATA_SUBJECT);
  EXPECT_FALSE(newest.receipt().jws().empty());
  r.mutable_page()->set_page_token("garbage");
  EXPECT_THAT(api_->ListConsentHistory(kPortal, r).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page.page_token")));
  r.mutable_page()->set_page_token("");
  r.mutable_page()->set_page_size(5000);
  EXPECT_THAT(api_->ListConsentHistory(kPortal, r).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page.page_size")));
}

TEST_F(ConsentApiTest, HistoryCannotBeRewrittenByTheServiceRole) {
  ASSERT_THAT(api_->UpdateConsent(kPortal, Update("c-1", "k", {FieldChoice("email", "direct-marketing", true)})).status(), IsOk());
  for (const char* sql : {"UPDATE consent.changes SET version = 9",
                          "DELETE FROM consent.changes", "TRUNCATE consent.changes"}) {
    pqxx::connection c(db_->DsnAs("cdp_consent"));
    pqxx::work tx(c);
    EXPECT_THROW(tx.exec(sql), pqxx::insufficient_privilege) << sql;
  }
}

TEST_F(ConsentApiTest, WatchSendsSnapshotThenChangesAndResumesWithoutLoss) {
  ASSERT_THAT(api_->UpdateConsent(kPortal, Update("c-1", "k0", {FieldChoice("email", "direct-marketing", true)})).status(), IsOk());
  // Snapshot: every customer once, then its end, then heartbeats; stop after the first.
  std::vector<v1::WatchConsentResponse> got;
  auto until_heartbeat = [&](const v1::WatchConsentResponse& m) {
    got.push_back(m);
    return !m.has_heartbeat();
  };
  v1::WatchConsentRequest from_start;
  EXPECT_THAT(api_->WatchConsent(kProfile, from_start, until_heartbeat, [] { return false; }),
              StatusIs(absl::StatusCode::kCancelled));
  ASSERT_GE(got.size(), 4u);
  EXPECT_TRUE(got[0].has_snapshot());
  EXPECT_TRUE(got[1].has_snapshot());
  EXPECT_EQ(got[0].snapshot().customer_id(), "c-1");
  EXPECT_EQ(got[0].snapshot().version(), 1);
  ASSERT_TRUE(got[2].has_snapshot_end());
  const int64_t end = got[2].snapshot_end().position();
  EXPECT_EQ(end, 3);  // two registrations and one change
  EXPECT_TRUE(got.back().has_heartbeat());
  EXPECT_EQ(got.back().heartbeat().position(), end);

  // Two changes while "disconnected"; resuming after `end` sends exactly those, in order.
  ASSERT_THAT(api_->UpdateConsent(kPortal, Update("c-2", "k1", {FieldChoice("email", "direct-marketing", true)})).status(), IsOk());
  ASSERT_THAT(api_->UpdateConsent(kPortal, Update("c-1", "k2", {FieldChoice("email", "direct-marketing", false)})).status(), IsOk());
  got.clear();
  v1::WatchConsentRequest resume;
  resume.set_after_position(end);
  // A heartbeat may come between the two (the feed polled between the commits); it may
  // never claim a position that has not been sent.
  std::vector<v1::CustomerConsent> changes;
  EXPECT_THAT(api_->WatchConsent(kProfile, resume,
                                 [&](const v1::WatchConsentResponse& m) {
                                   if (m.has_change()) changes.push_back(m.change());
                                   if (m.has_heartbeat()) {
                                     EXPECT_EQ(m.heartbeat().position(),
                                               changes.empty() ? end : changes.back().position());
                                   }
                                   return !(m.has_heartbeat() && m.heartbeat().position() == end + 2);
                                 },
                                 [] { return false; }),
              StatusIs(absl::StatusCode::kCancelled));
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].position(), end + 1);
  EXPECT_EQ(changes[0].customer_id(), "c-2");
  EXPECT_EQ(changes[1].position(), end + 2);
  EXPECT_EQ(changes[1].version(), 2);
  ASSERT_EQ(changes[1].choices_size(), 1);
  EXPECT_FALSE(changes[1].choices(0).allow());

  resume.set_after_position(end + 100);
  EXPECT_THAT(api_->WatchConsent(kProfile, resume, until_heartbeat, [] { return false; }),
              StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(api_->WatchConsent(kMarketing, from_start, until_heartbeat, [] { return false; }),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("WATCH_CONSENT")));
  EXPECT_THAT(api_->WatchConsent(kProfile, from_start, until_heartbeat, [] { return true; }),
              StatusIs(absl::StatusCode::kUnavailable));
}

TEST_F(ConsentApiTest, SnapshotIsAsOfItsHeadEvenWhileChangesArrive) {
  ASSERT_THAT(api_->UpdateConsent(kPortal, Update("c-1", "k0", {FieldChoice("email", "direct-marketing", true)})).status(), IsOk());
  int64_t head = 0;
  std::map<std::string, v1::CustomerConsent> seen;
  ASSERT_THAT(store_->Snapshot(
                  [&](int64_t h) {
                    head = h;
                    // A change and a new customer after the head was taken.
                    EXPECT_THAT(api_->UpdateConsent(kPortal, Update("c-1", "k1", {FieldChoice("email", "direct-marketing", false)})).status(), IsOk());
                    v1::RegisterCustomersRequest reg;
                    reg.add_customer_ids("c-late");
                    EXPECT_THAT(api_->RegisterCustomers(kOperator, reg).status(), IsOk());
                    return absl::OkStatus();
                  },
                  [&](const v1::CustomerConsent& state) {
                    seen[state.customer_id()] = state;
                    return absl::OkStatus();
                  }),
              IsOk());
  EXPECT_EQ(head, 3);
  ASSERT_EQ(seen.size(), 2u);  // c-1 and c-2; not c-late
  EXPECT_EQ(seen["c-1"].version(), 1);
  EXPECT_TRUE(seen["c-1"].choices(0).allow());
  EXPECT_LE(seen["c-1"].position(), head);
}

TEST_F(ConsentApiTest, RegisteringTwiceIsHarmless) {
  v1::RegisterCustomersRequest reg;
  reg.add_customer_ids("c-1");
  reg.add_customer_ids("c-3");
  auto done = api_->RegisterCustomers(kOperator, reg);
  ASSERT_THAT(done.status(), IsOk());
  EXPECT_EQ(done->registered(), 1);
  EXPECT_EQ(Version("c-3"), 0);
  reg.add_customer_ids("bad id");
  EXPECT_THAT(api_->RegisterCustomers(kOperator, reg).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("customer_ids[2]")));
  EXPECT_THAT(api_->RegisterCustomers(kPortal, reg).status(),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST_F(ConsentApiTest, ABatchOfNewCustomersTakesTheNextPositionsInItsOrder) {
  auto positions = [&](int64_t* head) {
    std::map<std::string, int64_t> out;
    EXPECT_THAT(store_->Snapshot([&](int64_t h) { *head = h; return absl::OkStatus(); },
                                 [&](const v1::CustomerConsent& state) {
                                   out[state.customer_id()] = state.position();
                                   return absl::OkStatus();
                                 }),
                IsOk());
    return out;
  };
  int64_t before = 0, after = 0;
  positions(&before);
  v1::RegisterCustomersRequest reg;
  for (const char* id : {"c-9", "c-1", "c-8", "c-9"}) reg.add_customer_ids(id);  // c-1 is known
  auto done = api_->RegisterCustomers(kOperator, reg);
  ASSERT_THAT(done.status(), IsOk());
  EXPECT_EQ(done->registered(), 2);
  std::map<std::string, int64_t> now = positions(&after);
  EXPECT_EQ(after, before + 2);
  EXPECT_EQ(now["c-9"], before + 1);
  EXPECT_EQ(now["c-8"], before + 2);
  EXPECT_EQ(Version("c-8"), 0);
  // Nothing new: the feed stays where it was.
  done = api_->RegisterCustomers(kOperator, reg);
  ASSERT_THAT(done.status(), IsOk());
  EXPECT_EQ(done->registered(), 0);
  positions(&before);
  EXPECT_EQ(before, after);
}

TEST_F(ConsentApiTest, ErasureEmptiesTheHistoryEndsTheFeedWithItAndAnswersNotFound) {
  const std::string kRights = "spiffe://cdp.local/service/rights";
  ASSERT_THAT(api_->UpdateConsent(kPortal, Update("c-1", "k1", {FieldChoice("email", "direct-marketing", true)})).status(),
              IsOk());
  ASSERT_THAT(api_->UpdateConsent(kPortal, Update("c-2", "k1", {FieldChoice("email", "direct-marketing", true)})).status(),
              IsOk());
  v1::EraseConsentRequest erase;
  erase.set_customer_id("c-1");
  EXPECT_THAT(api_->EraseConsent(kPortal, erase).status(), StatusIs(absl::StatusCode::kPermissionDenied));
  v1::EraseConsentRequest unknown;
  unknown.set_customer_id("c-404");
  EXPECT_THAT(api_->EraseConsent(kRights, unknown).status(), StatusIs(absl::StatusCode::kNotFound));

  auto erased = api_->EraseConsent(kRights, erase);
  ASSERT_THAT(erased.status(), IsOk());
  EXPECT_EQ(erased->changes_emptied(), 2);  // the registration and the choice
  auto again = api_->EraseConsent(kRights, erase);
  ASSERT_THAT(again.status(), IsOk());
  EXPECT_EQ(again->position(), erased->position());
  EXPECT_EQ(again->changes_emptied(), 0);

  v1::GetConsentRequest get;
  get.set_customer_id("c-1");
  EXPECT_THAT(api_->GetConsent(kPortal, get).status(), StatusIs(absl::StatusCode::kNotFound));
  v1::ListConsentHistoryRequest history;
  history.set_customer_id("c-1");
  EXPECT_THAT(api_->ListConsentHistory(kPortal, history).status(), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(api_->UpdateConsent(kPortal, Update("c-1", "k2", {FieldChoice("email", "direct-marketing", true)})).status(),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(Version("c-2"), 1);  // others untouched

  // Nothing of who acted, what was chosen or the receipt is left; positions have no gaps.
  pqxx::connection c(db_->AdminDsn());
  pqxx::work tx(c);
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM consent.changes WHERE customer_id = 'c-1' AND "
                     "(actor_id <> '' OR receipt IS NOT NULL OR idempotency_key IS NOT NULL)")[0].as<int>(), 0);
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM consent.changes WHERE customer_id = 'c-2' AND receipt IS NOT NULL")[0].as<int>(), 1);
  EXPECT_EQ(tx.exec1("SELECT max(position) - count(*) FROM consent.changes")[0].as<int>(), 0);
  // The service's own role cannot empty anyone's history but an erased customer's.
  pqxx::connection as_service(db_->DsnAs("cdp_consent"));
  pqxx::work service_tx(as_service);
  EXPECT_EQ(service_tx.exec1("SELECT consent.scrub_erased('c-2')")[0].as<int>(), 0);
  service_tx.abort();

  // Replicas learn of it from the feed: the last change of c-1 is the erasure.
  auto feed = store_->Feed(0, 100);
  ASSERT_THAT(feed.status(), IsOk());
  bool seen = false;
  for (const auto& change : *feed) {
    if (change.customer_id() == "c-1" && change.position() == erased->position()) seen = change.erased();
  }
  EXPECT_TRUE(seen);
}

}  // namespace
}  // namespace cdp::consent
