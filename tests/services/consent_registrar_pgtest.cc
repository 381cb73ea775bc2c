// ConsentRegistrar against the real PostgreSQL of tests/run.sh and a fake consent service
// in process: every profile the sequence has stamped is announced, erased ones are not,
// and how far it got moves on only after the consent service took them.
#include "services/ingest/consent_registrar.h"

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "cdp/v1/consent.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "pqxx/pqxx"
#include "storage/migrate.h"
#include "storage/migrations.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_database.h"

namespace cdp::ingest {
namespace {

using ::cdp::testing::IsOk;

// Takes what it is told, or refuses everything while `refusing`.
class FakeConsent : public v1::ConsentService::Service {
 public:
  grpc::Status RegisterCustomers(grpc::ServerContext*, const v1::RegisterCustomersRequest* request,
                                 v1::RegisterCustomersResponse*) override {
    absl::MutexLock lock(&mu_);
    ++calls_;
    if (refusing_) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "not now");
    for (const std::string& id : request->customer_ids()) ++announced_[id];
    return grpc::Status::OK;
  }
  void Refuse(bool refusing) {
    absl::MutexLock lock(&mu_);
    refusing_ = refusing;
  }
  int calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  std::map<std::string, int> announced() {
    absl::MutexLock lock(&mu_);
    return announced_;
  }

 private:
  absl::Mutex mu_;
  bool refusing_ ABSL_GUARDED_BY(mu_) = false;
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, int> announced_ ABSL_GUARDED_BY(mu_);  // id -> times
};

class ConsentRegistrarTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CDP_REQUIRE_PG();
    db_ = std::make_unique<testing::TestDatabase>();
    ASSERT_THAT(storage::ApplyMigrations(db_->AdminDsn(), storage::migrations::ingest()).status(), IsOk());
    pool_ = std::make_unique<storage::Pool>(storage::PoolOptions{
        .dsn = db_->DsnAs("cdp_ingest"), .size = 2, .statements = ConsentRegistrar::Statements()});
    ASSERT_THAT(pool_->Connect(), IsOk());
    grpc::ServerBuilder builder;
    builder.RegisterService(&consent_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }
  void TearDown() override {
    registrar_.reset();
    if (server_) server_->Shutdown();
  }
  void StartRegistrar() {
    registrar_ = std::make_unique<ConsentRegistrar>(
        *pool_, [this] { return server_->InProcessChannel(grpc::ChannelArguments()); }, absl::Milliseconds(10));
  }
  // Profiles as a write stamps them: the sequence moves on and the rows carry its number.
  void Stamp(const std::vector<std::string>& ids, bool erased = false) {
    pqxx::connection c(db_->AdminDsn());
    pqxx::work tx(c);
    const int64_t seq = tx.exec1("UPDATE ingest.sequence SET value = value + 1 RETURNING value")[0].as<int64_t>();
    for (const std::string& id : ids) {
      tx.exec_params(std::string("INSERT INTO ingest.profiles (profile_id, changed_seq, erased_at) VALUES ($1, $2, ") +
                         (erased ? "now()" : "NULL") + ")",
                     id, seq);
    }
    tx.commit();
  }
  int64_t Through() {
    pqxx::connection c(db_->AdminDsn());
    return pqxx::nontransaction(c).exec1("SELECT through_seq FROM ingest.consent_announced")[0].as<int64_t>();
  }
  int64_t SequenceValue() {
    pqxx::connection c(db_->AdminDsn());
    return pqxx::nontransaction(c).exec1("SELECT value FROM ingest.sequence")[0].as<int64_t>();
  }
  // Waits (up to 30 s) until every stamped number is announced.
  bool CaughtUp() {
    for (absl::Time end = absl::Now() + absl::Seconds(30); absl::Now() < end; absl::SleepFor(absl::Milliseconds(10))) {
      if (Through() == SequenceValue()) return true;
    }
    return false;
  }

  std::unique_ptr<testing::TestDatabase> db_;
  std::unique_ptr<storage::Pool> pool_;
  FakeConsent consent_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<ConsentRegistrar> registrar_;
};

TEST_F(ConsentRegistrarTest, EveryStampedProfileIsAnnouncedOnceAndErasedOnesNever) {
  Stamp({"p-anna", "p-bert"});
  Stamp({"p-gone"}, /*erased=*/true);
  StartRegistrar();
  ASSERT_TRUE(CaughtUp());
  EXPECT_EQ(consent_.announced(), (std::map<std::string, int>{{"p-anna", 1}, {"p-bert", 1}}));

  // Later profiles only, and beyond a round's worth of numbers (50).
  std::set<std::string> later;
  for (int i = 0; i < 120; ++i) {
    const std::string id = "p-later-" + std::to_string(i);
    later.insert(id);
    Stamp({id});
  }
  ASSERT_TRUE(CaughtUp());
  const std::map<std::string, int> announced = consent_.announced();
  EXPECT_EQ(announced.size(), 2 + later.size());
  for (const auto& [id, times] : announced) EXPECT_EQ(times, 1) << id;
  EXPECT_EQ(announced.count("p-gone"), 0u);
}

TEST_F(ConsentRegistrarTest, AProfileWithoutItsStampIsRefused) {
  // It would never be announced: the database wants every writer to stamp it.
  pqxx::connection c(db_->AdminDsn());
  EXPECT_THROW(pqxx::nontransaction(c).exec("INSERT INTO ingest.profiles (profile_id) VALUES ('p-unstamped')"),
               pqxx::not_null_violation);
}

TEST_F(ConsentRegistrarTest, NothingCountsAsAnnouncedUntilConsentTookIt) {
  consent_.Refuse(true);
  Stamp({"p-anna"});
  StartRegistrar();
  for (absl::Time end = absl::Now() + absl::Seconds(30); consent_.calls() < 3 && absl::Now() < end;) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_GE(consent_.calls(), 3);
  EXPECT_EQ(Through(), 0);  // refused, so still to do

  // A new registrar (as after a crash) picks up where the last one left off.
  registrar_.reset();
  consent_.Refuse(false);
  StartRegistrar();
  ASSERT_TRUE(CaughtUp());
  EXPECT_EQ(consent_.announced(), (std::map<std::string, int>{{"p-anna", 1}}));
}

}  // namespace
}  // namespace cdp::ingest
