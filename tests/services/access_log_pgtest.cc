// The access log on the real PostgreSQL of tests/run.sh: durable group commits, what the
// service's database role may not do, and tampering done directly in the database.
#include "services/audit/access_log.h"

#include <algorithm>
#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pqxx/pqxx"
#include "services/audit/audit_api.h"
#include "services/audit/pg_event_store.h"
#include "storage/migrate.h"
#include "storage/migrations.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_database.h"

namespace cdp::audit {
namespace {

using ::cdp::testing::IsOk;
using ::cdp::testing::StatusIs;
using ::testing::HasSubstr;

v1::AccessEvent Event(int i) {
  v1::AccessEvent e;
  e.set_caller("spiffe://cdp.local/service/support-desk");
  e.mutable_acting_party()->set_kind(v1::ActingParty::BOT);
  e.mutable_acting_party()->set_id("helpdesk-bot");
  e.set_subject_pseudonym(absl::StrCat("sp-", i % 7));
  e.set_purpose("customer_service");
  e.set_legal_basis("contract");
  e.add_fields_released("email");
  e.add_fields_released("given_name");
  (*e.mutable_fields_withheld())["date_of_birth"] = "no consent for this purpose";
  e.set_consent_version(i);
  e.set_request_id(absl::StrCat("req-", i));
  return e;
}

class AccessLogPgTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CDP_REQUIRE_PG();
    db_ = std::make_unique<testing::TestDatabase>();
    ASSERT_THAT(storage::ApplyMigrations(db_->AdminDsn(), storage::migrations::audit()).status(), IsOk());
    pool_ = std::make_unique<storage::Pool>(storage::PoolOptions{
        .dsn = db_->DsnAs("cdp_audit"), .size = 3, .statements = PgEventStore::Statements()});
    ASSERT_THAT(pool_->Connect(), IsOk());
    store_ = std::make_unique<PgEventStore>(*pool_);
    auto signer = consent::ReceiptSigner::FromPem(consent::NewEd25519PrivateKeyPem());
    ASSERT_THAT(signer.status(), IsOk());
    signer_ = *std::move(signer);
    log_ = std::make_unique<AccessLog>(*store_, *signer_, AccessLog::Options{.sign_interval = absl::Hours(1)});
    ASSERT_THAT(log_->Start(), IsOk());
  }
  void Admin(const std::string& sql) {
    pqxx::connection c(db_->AdminDsn());
    pqxx::work tx(c);
    tx.exec0(sql);
    tx.commit();
  }
  std::string Admin1(const std::string& sql) {
    pqxx::connection c(db_->AdminDsn());
    pqxx::work tx(c);
    return tx.exec1(sql)[0].as<std::string>();
  }
  std::unique_ptr<testing::TestDatabase> db_;
  std::unique_ptr<storage::Pool> pool_;
  std::unique_ptr<PgEventStore> store_;
  std::unique_ptr<consent::ReceiptSigner> signer_;
  std::unique_ptr<AccessLog> log_;
};

TEST_F(AccessLogPgTest, EventsAreDurableInOrderAndSurviveARestart) {
  std::vector<v1::AccessEvent> events;
  for (int i = 0; i < 25; ++i) events.push_back(Event(i));
  auto appended = log_->Append(events);
  ASSERT_THAT(appended.status(), IsOk());
  ASSERT_EQ(appended->size(), 25u);
  EXPECT_EQ((*appended)[24].position, 24);
  ASSERT_THAT(log_->SignNow(), IsOk());
  const Hash root = log_->LatestTreeHead()->root_hash;

  log_.reset();
  AccessLog restarted(*store_, *signer_, AccessLog::Options{.sign_interval = absl::Hours(1)});
  ASSERT_THAT(restarted.Start(), IsOk());
  EXPECT_EQ(restarted.size(), 25);
  EXPECT_EQ(restarted.LatestTreeHead()->root_hash, root);
  auto v = restarted.Verify();
  ASSERT_THAT(v.status(), IsOk());
  EXPECT_TRUE(v->ok) << v->problem << " at " << v->first_bad_position;
  EXPECT_EQ(v->events_checked, 25);
  auto next = restarted.Append({Event(99)});
  ASSERT_THAT(next.status(), IsOk());
  EXPECT_EQ((*next)[0].position, 25);
}

TEST_F(AccessLogPgTest, ManyCallersGetGapFreePositionsAndTheStoredLogVerifies) {
  // Groups are written two at a time (one commits while the next is inserted): every
  // event is stored once, at its position, and the stored events are this log's tree.
  constexpr int kThreads = 8, kEach = 30;
  std::vector<std::vector<int64_t>> positions(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto appended = log_->Append({Event(t * 1000 + 2 * i), Event(t * 1000 + 2 * i + 1)});
        ASSERT_THAT(appended.status(), IsOk());
        EXPECT_EQ((*appended)[1].position, (*appended)[0].position + 1);
        positions[static_cast<size_t>(t)].push_back((*appended)[0].position);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  std::vector<int64_t> all;
  for (const auto& p : positions) {
    EXPECT_TRUE(std::is_sorted(p.begin(), p.end()));
    for (int64_t first : p) all.insert(all.end(), {first, first + 1});
  }
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), static_cast<size_t>(2 * kThreads * kEach));
  for (size_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i], static_cast<int64_t>(i));
  auto v = log_->Verify();
  ASSERT_THAT(v.status(), IsOk());
  EXPECT_TRUE(v->ok) << v->problem << " at " << v->first_bad_position;
  EXPECT_EQ(v->events_checked, 2 * kThreads * kEach);
  ASSERT_THAT(log_->SignNow(), IsOk());
  AccessLog restarted(*store_, *signer_, AccessLog::Options{.sign_interval = absl::Hours(1)});
  ASSERT_THAT(restarted.Start(), IsOk());
  EXPECT_EQ(restarted.LatestTreeHead()->root_hash, log_->LatestTreeHead()->root_hash);
}

TEST_F(AccessLogPgTest, AnAppendAbandonedBeforeItsCommitStoresNothing) {
  StoredEvent e;
  e.event_id = "ev-0";
  e.recorded_at = absl::FromUnixSeconds(1800000000);
  e.subject_pseudonym = "sp-0";
  e.caller = "billing";
  e.acting_party_id = "x";
  e.purpose = "billing";
  e.outcome = "released";
  e.entry = e.event_id;
  e.leaf_hash = LeafHash(e.entry);
  EXPECT_THAT(store_->Append({e}, [] { return absl::UnavailableError("a group before this one failed"); }),
              StatusIs(absl::StatusCode::kUnavailable));
  auto leaves = store_->LeafHashes(0);
  ASSERT_THAT(leaves.status(), IsOk());
  EXPECT_TRUE(leaves->empty());
  ASSERT_THAT(store_->Append({e}, [] { return absl::OkStatus(); }), IsOk());
  leaves = store_->LeafHashes(0);
  ASSERT_THAT(leaves.status(), IsOk());
  EXPECT_EQ(leaves->size(), 1u);
}

TEST_F(AccessLogPgTest, ConcurrentAppendsOfNewCustomersInAnyOrderAllGetTheirPseudonyms) {
  // Two profile services (or two coalesced calls of one) log reads of the same new
  // customers at the same moment, in different orders: neither may fail (each would fail
  // a read), and each customer gets one pseudonym.
  for (int round = 0; round < 40; ++round) {
    std::vector<std::string> forward, backward;
    for (int i = 0; i < 50; ++i) forward.push_back(absl::StrCat("cust-", round, "-", i));
    backward.assign(forward.rbegin(), forward.rend());
    backward.push_back(forward[3]);  // and one twice in a call
    absl::StatusOr<std::vector<std::string>> a, b;
    std::thread other([&] { b = store_->Pseudonyms(backward); });
    a = store_->Pseudonyms(forward);
    other.join();
    ASSERT_THAT(a.status(), IsOk()) << round;
    ASSERT_THAT(b.status(), IsOk()) << round;
    for (size_t i = 0; i < forward.size(); ++i) {
      EXPECT_EQ((*a)[i], (*b)[forward.size() - 1 - i]) << forward[i];
    }
    EXPECT_EQ(b->back(), (*a)[3]);
    // Asked again, later: the same pseudonyms, read rather than made.
    auto again = store_->Pseudonyms(forward);
    ASSERT_THAT(again.status(), IsOk());
    EXPECT_EQ(*again, *a);
  }
}

TEST_F(AccessLogPgTest, AQueryForAFieldFindsTheEventsNamingThatFieldAndNoOther) {
  v1::AccessEvent other = Event(5);
  other.clear_fields_released();
  other.add_fields_released("given_name_initial");
  ASSERT_THAT(log_->Append({Event(1), other, Event(2)}).status(), IsOk());
  auto positions = [&](const std::string& field) {
    EventStore::Filter f;
    f.field = field;
    std::vector<int64_t> out;
    auto found = store_->Query(f, EventStore::kEnd, 10);
    EXPECT_THAT(found.status(), IsOk());
    if (found.ok()) for (const StoredEvent& e : *found) out.push_back(e.position);
    return out;
  };
  EXPECT_THAT(positions("given_name"), ::testing::ElementsAre(2, 0));
  EXPECT_THAT(positions("date_of_birth"), ::testing::ElementsAre(2, 1, 0));  // withheld from all three
  EXPECT_THAT(positions("given_name_initial"), ::testing::ElementsAre(1));
  EXPECT_THAT(positions("given"), ::testing::IsEmpty());
  EXPECT_THAT(positions("name"), ::testing::IsEmpty());
  EXPECT_THAT(positions(""), ::testing::ElementsAre(2, 1, 0));
}

TEST(AccessLogMigrationTest, FieldsStoredAsAnArrayBecomeTheFieldsColumn) {
  CDP_REQUIRE_PG();
  testing::TestDatabase db;
  storage::MigrationSet before = storage::migrations::audit();
  auto it = std::find_if(before.files.begin(), before.files.end(),
                         [](const storage::Migration& m) { return m.name == "0005_fields_as_text.sql"; });
  ASSERT_NE(it, before.files.end());
  before.files.erase(it, before.files.end());
  ASSERT_THAT(storage::ApplyMigrations(db.AdminDsn(), before).status(), IsOk());
  {
    pqxx::connection c(db.AdminDsn());
    pqxx::work tx(c);
    tx.exec0(
        "INSERT INTO audit.events VALUES (0, 'e0', now(), 'sp-0', 'c', 'a', 'p', 'released', "
        "ARRAY['date_of_birth', 'email', 'given_name'], '\\x00', decode(repeat('00', 32), 'hex')), "
        "(1, 'e1', now(), 'sp-0', 'c', 'a', 'p', 'denied', '{}', '\\x00', decode(repeat('00', 32), 'hex'))");
    tx.commit();
  }
  ASSERT_THAT(storage::ApplyMigrations(db.AdminDsn(), storage::migrations::audit()).status(), IsOk());
  pqxx::connection c(db.AdminDsn());
  pqxx::work tx(c);
  EXPECT_EQ(tx.exec1("SELECT fields FROM audit.events WHERE position = 0")[0].as<std::string>(),
            "date_of_birth email given_name");
  EXPECT_EQ(tx.exec1("SELECT fields FROM audit.events WHERE position = 1")[0].as<std::string>(), "");
}

TEST_F(AccessLogPgTest, TheServiceRoleCannotChangeOrRemoveEvents) {
  ASSERT_THAT(log_->Append({Event(1)}).status(), IsOk());
  ASSERT_THAT(log_->SignNow(), IsOk());
  for (const char* sql : {"UPDATE audit.events SET purpose = 'marketing'", "DELETE FROM audit.events",
                          "TRUNCATE audit.events", "UPDATE audit.tree_heads SET tree_size = 0",
                          "DELETE FROM audit.tree_heads"}) {
    pqxx::connection c(db_->DsnAs("cdp_audit"));
    pqxx::work tx(c);
    EXPECT_THROW(tx.exec(sql), pqxx::insufficient_privilege) << sql;
  }
}

TEST_F(AccessLogPgTest, VerifyNamesAnEventChangedDirectlyInTheDatabase) {
  std::vector<v1::AccessEvent> events;
  for (int i = 0; i < 40; ++i) events.push_back(Event(i));
  ASSERT_THAT(log_->Append(events).status(), IsOk());
  ASSERT_THAT(log_->SignNow(), IsOk());
  ASSERT_TRUE(log_->Verify()->ok);

  // Someone with the owner's credentials hides that a field was released.
  Admin("UPDATE audit.events SET fields = 'given_name' WHERE position = 17");
  auto v = log_->Verify();
  ASSERT_THAT(v.status(), IsOk());
  EXPECT_FALSE(v->ok);
  EXPECT_EQ(v->first_bad_position, 17);
  EXPECT_THAT(v->problem, HasSubstr("column"));
  Admin("UPDATE audit.events SET fields = 'date_of_birth email given_name' WHERE position = 17");
  ASSERT_TRUE(log_->Verify()->ok) << log_->Verify()->problem;
  // The names are right but not as the log writes them.
  for (const char* fields : {"date_of_birth  email given_name", "date_of_birth email given_name ",
                             "email date_of_birth given_name", "date_of_birth email", "date_of_birth email given"}) {
    SCOPED_TRACE(fields);
    Admin(absl::StrCat("UPDATE audit.events SET fields = '", fields, "' WHERE position = 17"));
    v = log_->Verify();
    ASSERT_THAT(v.status(), IsOk());
    EXPECT_FALSE(v->ok);
    EXPECT_EQ(v->first_bad_position, 17);
  }
  Admin("UPDATE audit.events SET fields = 'date_of_birth email given_name' WHERE position = 17");
  ASSERT_TRUE(log_->Verify()->ok) << log_->Verify()->problem;

  // Or rewrites the entry itself.
  Admin("UPDATE audit.events SET entry = entry || '\\x00'::bytea WHERE position = 23");
  v = log_->Verify();
  ASSERT_THAT(v.status(), IsOk());
  EXPECT_FALSE(v->ok);
  EXPECT_EQ(v->first_bad_position, 23);

  // Or deletes one.
  Admin("UPDATE audit.events SET entry = substring(entry FROM 1 FOR length(entry) - 1) WHERE position = 23");
  ASSERT_TRUE(log_->Verify()->ok) << log_->Verify()->problem;
  Admin("DELETE FROM audit.events WHERE position = 31");
  v = log_->Verify();
  ASSERT_THAT(v.status(), IsOk());
  EXPECT_FALSE(v->ok);
  EXPECT_EQ(v->first_bad_position, 31);
  EXPECT_THAT(v->problem, HasSubstr("missing"));
}

TEST_F(AccessLogPgTest, VerifyNamesAnEventWhoseColumnsCannotBeReadAndTheNewestEventsDeleted) {
  std::vector<v1::AccessEvent> events;
  for (int i = 0; i < 30; ++i) events.push_back(Event(i));
  ASSERT_THAT(log_->Append(events).status(), IsOk());
  ASSERT_THAT(log_->SignNow(), IsOk());
  // Events no signed head covers yet: only the log's own count can miss them.
  ASSERT_THAT(log_->Append(std::vector<v1::AccessEvent>(events.begin(), events.begin() + 5)).status(), IsOk());
  ASSERT_TRUE(log_->Verify()->ok);

  // A timestamp column takes infinity, which is no time an event was logged at.
  const std::string before = Admin1("SELECT recorded_at::text FROM audit.events WHERE position = 12");
  Admin("UPDATE audit.events SET recorded_at = 'infinity' WHERE position = 12");
  auto unreadable = log_->Verify();
  ASSERT_THAT(unreadable.status(), IsOk());
  EXPECT_FALSE(unreadable->ok);
  EXPECT_EQ(unreadable->first_bad_position, 12);
  EXPECT_THAT(unreadable->problem, HasSubstr("cannot be read"));
  Admin(absl::StrCat("UPDATE audit.events SET recorded_at = '", before, "' WHERE position = 12"));
  ASSERT_TRUE(log_->Verify()->ok) << log_->Verify()->problem;

  Admin("DELETE FROM audit.events WHERE position >= 33");
  auto v = log_->Verify();
  ASSERT_THAT(v.status(), IsOk());
  EXPECT_FALSE(v->ok);
  EXPECT_EQ(v->first_bad_position, 33);
  EXPECT_THAT(v->problem, HasSubstr("missing"));
}

TEST_F(AccessLogPgTest, TheLogRecordsWhoAppendedEachEventWhateverTheAppenderClaims) {
  auto catalog = consent::Catalog::FromFile(std::string(CDP_SOURCE_DIR) + "/consent/catalog/default.textproto");
  ASSERT_THAT(catalog.status(), IsOk());
  AuditApi api(*catalog, *log_, *store_, *signer_);
  v1::AppendEventsRequest req;
  auto* item = req.add_events();
  item->set_customer_id("p-1");
  *item->mutable_event() = Event(1);
  item->mutable_event()->mutable_justification()->set_code(v1::Justification::CUSTOMER_REQUEST);
  item->mutable_event()->set_recorded_by("spiffe://cdp.local/service/someone-else");
  auto appended = api.AppendEvents("spiffe://cdp.local/service/profile", req);
  ASSERT_THAT(appended.status(), IsOk());
  std::string entry;
  ASSERT_THAT(store_->Scan(appended->events(0).position(), appended->events(0).position() + 1,
                           [&](const StoredEvent& e) {
                             entry = e.entry;
                             return absl::OkStatus();
                           }),
              IsOk());
  v1::AccessEvent stored;
  ASSERT_TRUE(stored.ParseFromString(entry));
  EXPECT_EQ(stored.recorded_by(), "spiffe://cdp.local/service/profile");
  EXPECT_EQ(stored.caller(), Event(1).caller());  // the appender's account of who read

  // A field name the log cannot store is refused with its path in the request, and
  // nothing of the call is logged.
  const int64_t logged = log_->size();
  auto* bad = req.add_events();
  *bad = *item;
  bad->mutable_event()->add_fields_released("date of birth");
  EXPECT_THAT(api.AppendEvents("spiffe://cdp.local/service/profile", req).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("events[1].event.fields_released[2]")));
  EXPECT_EQ(log_->size(), logged);
}

TEST_F(AccessLogPgTest, ExportsDisarmSpreadsheetFormulasAndOnlyConsolesNameAuditors) {
  auto catalog = consent::Catalog::FromFile(std::string(CDP_SOURCE_DIR) + "/consent/catalog/default.textproto");
  ASSERT_THAT(catalog.status(), IsOk());
  AuditApi api(*catalog, *log_, *store_, *signer_);
  v1::AppendEventsRequest req;
  auto* item = req.add_events();
  item->set_customer_id("p-1");
  *item->mutable_event() = Event(1);
  item->mutable_event()->mutable_acting_party()->set_id("=HYPERLINK(\"http://x\")");
  item->mutable_event()->mutable_justification()->set_code(v1::Justification::CUSTOMER_REQUEST);
  item->mutable_event()->mutable_justification()->set_reference("+31 ticket");
  ASSERT_THAT(api.AppendEvents("spiffe://cdp.local/service/profile", req).status(), IsOk());

  v1::QueryAccessEventsRequest q;
  q.mutable_justification()->set_code(v1::Justification::LEGAL_REQUEST);
  std::string csv;
  ASSERT_THAT(api.ExportAccessEvents("spiffe://cdp.local/auditor/dpo", q,
                                     [&](const std::string& chunk) {
                                       csv += chunk;
                                       return true;
                                     }),
              IsOk());
  EXPECT_THAT(csv, HasSubstr(",\"'=HYPERLINK(\"\"http://x\"\")\","));
  EXPECT_THAT(csv, HasSubstr(",'+31 ticket,"));

  // Naming the auditor a look is for is the console's alone.
  q.mutable_acting_party()->set_kind(v1::ActingParty::HUMAN_AGENT);
  q.mutable_acting_party()->set_id("auditor:someone-else");
  EXPECT_EQ(api.QueryAccessEvents("spiffe://cdp.local/auditor/dpo", q).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(api.QueryAccessEvents("spiffe://cdp.local/auditor/console", q).status(), IsOk());
}

TEST_F(AccessLogPgTest, TheUnusualAccessReportNamesACallerReadingFarMoreCustomersThanUsual) {
  auto catalog = consent::Catalog::FromFile(std::string(CDP_SOURCE_DIR) + "/consent/catalog/default.textproto");
  ASSERT_THAT(catalog.status(), IsOk());
  AuditApi api(*catalog, *log_, *store_, *signer_);
  auto read = [&](const std::string& caller, int customer) {
    v1::AppendEventsRequest req;
    auto* item = req.add_events();
    item->set_customer_id(absl::StrCat("p-", customer));
    *item->mutable_event() = Event(customer);
    item->mutable_event()->set_caller(caller);
    item->mutable_event()->mutable_justification()->set_code(v1::Justification::CUSTOMER_REQUEST);
    ASSERT_THAT(api.AppendEvents("spiffe://cdp.local/service/profile", req).status(), IsOk());
  };
  for (int i = 0; i < 40; ++i) read("spiffe://cdp.local/service/marketing", i);   // 40 customers
  for (int i = 0; i < 8; ++i) read("spiffe://cdp.local/service/support-desk", i);  // 8, a few twice
  for (int i = 0; i < 8; ++i) read("spiffe://cdp.local/service/support-desk", i);
  v1::UnusualAccessRequest req;
  req.set_min_customers(20);
  req.mutable_justification()->set_code(v1::Justification::LEGAL_REQUEST);
  auto report = api.UnusualAccess("spiffe://cdp.local/auditor/dpo", req);
  ASSERT_THAT(report.status(), IsOk());
  ASSERT_EQ(report->callers_size(), 1);
  EXPECT_EQ(report->callers(0).caller(), "spiffe://cdp.local/service/marketing");
  EXPECT_EQ(report->callers(0).customers(), 40);
  EXPECT_EQ(report->callers(0).usual(), 0);  // nothing before this window
  EXPECT_EQ(api.UnusualAccess("spiffe://cdp.local/service/marketing", req).status().code(),
            absl::StatusCode::kPermissionDenied);
}

// The report's arithmetic on stored events with chosen times: the usual rate is the mean
// over the earlier windows, and a caller is flagged only well above it.
TEST_F(AccessLogPgTest, UnusualAccessComparesTheLatestWindowWithTheCallersUsualOnes) {
  const absl::Time now = absl::FromUnixSeconds(1800000000);
  std::vector<StoredEvent> rows;
  auto add = [&](const std::string& caller, int customer, absl::Time at) {
    StoredEvent e;
    e.position = static_cast<int64_t>(rows.size());
    e.event_id = absl::StrCat("ev-", rows.size());
    e.recorded_at = at;
    e.subject_pseudonym = absl::StrCat("sp-", customer);
    e.caller = caller;
    e.acting_party_id = "x";
    e.purpose = caller == "auditor" ? kAccessLogReview : "billing";
    e.outcome = "released";
    e.entry = e.event_id;
    e.leaf_hash = LeafHash(e.entry);
    rows.push_back(e);
  };
  // "steady" reads 10 customers in each of the 4 earlier hours and 12 in the latest.
  for (int h = 0; h <= 4; ++h) {
    for (int c = 0; c < (h == 0 ? 12 : 10); ++c) add("steady", c + 100 * h, now - absl::Hours(h) - absl::Minutes(30));
  }
  // "surge" read 2 an hour, then 40 in the latest hour.
  for (int h = 1; h <= 4; ++h) {
    for (int c = 0; c < 2; ++c) add("surge", c + 100 * h, now - absl::Hours(h) - absl::Minutes(30));
  }
  for (int c = 0; c < 40; ++c) add("surge", c, now - absl::Minutes(10));
  // An auditor's looks are not accesses to count.
  for (int c = 0; c < 50; ++c) add("auditor", c, now - absl::Minutes(5));
  ASSERT_THAT(store_->Append(rows, [] { return absl::OkStatus(); }), IsOk());
  auto activity = store_->ActivityByCaller(now, absl::Hours(1), 4);
  ASSERT_THAT(activity.status(), IsOk());
  std::map<std::string, EventStore::CallerActivity> by;
  for (const auto& a : *activity) by[a.caller] = a;
  EXPECT_EQ(by.count("auditor"), 0u);
  EXPECT_EQ(by["steady"].customers, 12);
  EXPECT_DOUBLE_EQ(by["steady"].usual, 10.0);
  EXPECT_EQ(by["surge"].customers, 40);
  EXPECT_DOUBLE_EQ(by["surge"].usual, 2.0);
}

}  // namespace
}  // namespace cdp::audit
