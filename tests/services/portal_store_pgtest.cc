// The portal's store on the real PostgreSQL of tests/run.sh, as the portal's own role.
#include "services/portal/pg_portal_store.h"

#include <atomic>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pqxx/pqxx"
#include "services/portal/auth.h"
#include "storage/migrate.h"
#include "storage/migrations.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_database.h"

namespace cdp::portal {
namespace {

using ::cdp::testing::IsOk;
using ::cdp::testing::StatusIs;

class PortalStorePgTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CDP_REQUIRE_PG();
    db_ = std::make_unique<testing::TestDatabase>();
    ASSERT_THAT(storage::ApplyMigrations(db_->AdminDsn(), storage::migrations::portal()).status(), IsOk());
    pool_ = std::make_unique<storage::Pool>(storage::PoolOptions{
        .dsn = db_->DsnAs("cdp_portal"), .size = 4, .statements = PgPortalStore::Statements()});
    ASSERT_THAT(pool_->Connect(), IsOk());
    store_ = std::make_unique<PgPortalStore>(*pool_);
  }
  std::unique_ptr<testing::TestDatabase> db_;
  std::unique_ptr<storage::Pool> pool_;
  std::unique_ptr<PgPortalStore> store_;
  const absl::Time now_ = absl::FromUnixSeconds(1790000000);
};

TEST_F(PortalStorePgTest, ALinkIsUsedOnceEvenByConcurrentClicks) {
  const std::string hash = Sha256("token");
  ASSERT_THAT(store_->AddSignInLink(hash, "p-1", now_, now_ + absl::Minutes(15)), IsOk());
  std::atomic<int> won{0};
  std::vector<std::thread> clicks;
  for (int i = 0; i < 4; ++i) {
    clicks.emplace_back([&] {
      auto used = store_->UseSignInLink(hash, now_ + absl::Minutes(1));
      if (used.ok() && used->has_value() && **used == "p-1") ++won;
    });
  }
  for (auto& t : clicks) t.join();
  EXPECT_EQ(won.load(), 1);
  auto again = store_->UseSignInLink(hash, now_ + absl::Minutes(2));
  ASSERT_THAT(again.status(), IsOk());
  EXPECT_FALSE(again->has_value());
}

TEST_F(PortalStorePgTest, AnExpiredLinkSignsNobodyIn) {
  const std::string hash = Sha256("late");
  ASSERT_THAT(store_->AddSignInLink(hash, "p-1", now_, now_ + absl::Minutes(15)), IsOk());
  auto used = store_->UseSignInLink(hash, now_ + absl::Minutes(15));
  ASSERT_THAT(used.status(), IsOk());
  EXPECT_FALSE(used->has_value());
  auto unknown = store_->UseSignInLink(Sha256("never issued"), now_);
  ASSERT_THAT(unknown.status(), IsOk());
  EXPECT_FALSE(unknown->has_value());
}

TEST_F(PortalStorePgTest, SessionsAreFoundUntilTheyExpireOrAreDeleted) {
  Session s{.id_sha256 = Sha256("sid"), .kind = "customer", .subject = "p-1", .csrf_token = "c",
            .created_at = now_, .expires_at = now_ + absl::Minutes(30)};
  ASSERT_THAT(store_->AddSession(s), IsOk());
  auto found = store_->FindSession(s.id_sha256, now_ + absl::Minutes(29));
  ASSERT_THAT(found.status(), IsOk());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->subject, "p-1");
  EXPECT_EQ((*found)->csrf_token, "c");
  EXPECT_EQ((*found)->expires_at, s.expires_at);
  EXPECT_FALSE(store_->FindSession(s.id_sha256, now_ + absl::Minutes(31))->has_value());
  EXPECT_THAT(store_->DeleteExpired(now_ + absl::Minutes(31)), ::cdp::testing::IsOkAndHolds(1));
  ASSERT_THAT(store_->AddSession(s), IsOk());
  ASSERT_THAT(store_->DeleteSession(s.id_sha256), IsOk());
  EXPECT_FALSE(store_->FindSession(s.id_sha256, now_)->has_value());
}

TEST_F(PortalStorePgTest, AuditorNamesAreUniqueAndWellFormed) {
  Auditor a{.name = "dpo", .display_name = "DPO", .password_argon2id = "$argon2id$x", .totp_secret = "s3cr3t"};
  ASSERT_THAT(store_->AddAuditor(a, now_), IsOk());
  EXPECT_THAT(store_->AddAuditor(a, now_), StatusIs(absl::StatusCode::kAlreadyExists));
  a.name = "Not Valid!";
  EXPECT_FALSE(store_->AddAuditor(a, now_).ok());
  auto found = store_->FindAuditor("dpo");
  ASSERT_THAT(found.status(), IsOk());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->totp_secret, "s3cr3t");
  EXPECT_FALSE((*found)->disabled);
  EXPECT_FALSE(store_->FindAuditor("nobody")->has_value());
}

TEST_F(PortalStorePgTest, TheLatestVerificationIsKept) {
  EXPECT_FALSE(store_->LatestVerification()->has_value());
  ASSERT_THAT(store_->AddVerification({.auditor = "dpo", .verified_at = now_, .ok = true, .events_checked = 10}),
              IsOk());
  ASSERT_THAT(store_->AddVerification({.auditor = "dpo", .verified_at = now_ + absl::Minutes(1), .ok = false,
                                       .events_checked = 12, .first_bad_position = 7, .problem = "leaf differs"}),
              IsOk());
  auto last = store_->LatestVerification();
  ASSERT_THAT(last.status(), IsOk());
  ASSERT_TRUE(last->has_value());
  EXPECT_FALSE((*last)->ok);
  EXPECT_EQ((*last)->first_bad_position, 7);
  EXPECT_EQ((*last)->problem, "leaf differs");
}

}  // namespace
}  // namespace cdp::portal
