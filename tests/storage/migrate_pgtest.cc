#include "storage/migrate.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pqxx/pqxx"
#include "storage/migrations.h"
#include "storage/pool.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_database.h"

namespace cdp::storage {
namespace {

using ::cdp::testing::IsOk;
using ::cdp::testing::StatusIs;
using ::cdp::testing::TestDatabase;
using ::testing::HasSubstr;

MigrationSet Demo() {
  return {"demo",
          {{"0001_schema.sql", "CREATE SCHEMA demo; CREATE TABLE demo.t (id int PRIMARY KEY);"},
           {"0002_column.sql", "ALTER TABLE demo.t ADD COLUMN note text;"}}};
}

int64_t Count(const std::string& dsn, const std::string& sql) {
  pqxx::connection c(dsn);
  pqxx::work tx(c);
  return tx.exec1(sql)[0].as<int64_t>();
}

class MigrateTest : public ::testing::Test {
 protected:
  void SetUp() override { CDP_REQUIRE_PG(); db_ = std::make_unique<TestDatabase>(); }
  std::unique_ptr<TestDatabase> db_;
};

TEST_F(MigrateTest, AppliesInOrderOnceAndRecordsChecksums) {
  auto first = ApplyMigrations(db_->AdminDsn(), Demo());
  ASSERT_THAT(first, IsOk());
  EXPECT_EQ(first->applied, 2);
  auto second = ApplyMigrations(db_->AdminDsn(), Demo());
  ASSERT_THAT(second, IsOk());
  EXPECT_EQ(second->applied, 0);
  EXPECT_EQ(second->up_to_date, 2);
  EXPECT_EQ(Count(db_->AdminDsn(),
                  "SELECT count(*) FROM cdp_meta.migrations WHERE schema_name = 'demo' "
                  "AND length(sha256) = 64"),
            2);
  EXPECT_EQ(Count(db_->AdminDsn(), "SELECT count(*) FROM information_schema.columns "
                                   "WHERE table_schema = 'demo' AND column_name = 'note'"),
            1);
}

TEST_F(MigrateTest, ChangedFileAfterApplyRefusesToStart) {
  ASSERT_THAT(ApplyMigrations(db_->AdminDsn(), Demo()), IsOk());
  MigrationSet changed = Demo();
  changed.files[1].sql = "ALTER TABLE demo.t ADD COLUMN other text;";
  EXPECT_THAT(ApplyMigrations(db_->AdminDsn(), changed),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("0002_column.sql")));
}

TEST_F(MigrateTest, UnknownAppliedVersionRefusesToStart) {
  ASSERT_THAT(ApplyMigrations(db_->AdminDsn(), Demo()), IsOk());
  MigrationSet older = Demo();
  older.files.pop_back();
  EXPECT_THAT(ApplyMigrations(db_->AdminDsn(), older),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("does not know")));
}

TEST_F(MigrateTest, FailingFileLeavesNothingBehindAndIsNamed) {
  MigrationSet bad = {"demo",
                      {{"0001_schema.sql", "CREATE SCHEMA demo;"},
                       {"0002_broken.sql", "CREATE TABLE demo.half (id int); SELECT no_such_fn();"}}};
  EXPECT_THAT(ApplyMigrations(db_->AdminDsn(), bad),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("0002_broken.sql")));
  EXPECT_EQ(Count(db_->AdminDsn(), "SELECT count(*) FROM information_schema.tables "
                                   "WHERE table_schema = 'demo' AND table_name = 'half'"),
            0);
  EXPECT_EQ(Count(db_->AdminDsn(),
                  "SELECT count(*) FROM cdp_meta.migrations WHERE schema_name = 'demo'"),
            1);
}

TEST_F(MigrateTest, BadFileNameIsRejectedBeforeConnecting) {
  MigrationSet bad = {"demo", {{"init.sql", "SELECT 1"}}};
  EXPECT_THAT(ApplyMigrations("host=/nonexistent", bad),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("init.sql")));
}

TEST_F(MigrateTest, UnreachableServerIsUnavailable) {
  EXPECT_THAT(ApplyMigrations("host=127.0.0.1 port=1 connect_timeout=2", Demo()),
              StatusIs(absl::StatusCode::kUnavailable));
}

TEST_F(MigrateTest, ServiceRoleCanUseButNotReshapeItsSchema) {
  ASSERT_THAT(ApplyMigrations(db_->AdminDsn(), migrations::consent()), IsOk());
  {
    pqxx::connection c(db_->AdminDsn());
    pqxx::work tx(c);
    tx.exec("CREATE TABLE consent.probe (id int)");
    tx.commit();
  }
  Pool pool({.dsn = db_->DsnAs("cdp_consent"), .size = 1});
  ASSERT_THAT(pool.Connect(), IsOk());
  EXPECT_THAT(pool.Transact([](pqxx::work& tx) {
    tx.exec("INSERT INTO probe VALUES (1)");  // search_path is the service's schema
    tx.exec("UPDATE probe SET id = 2");
    return absl::OkStatus();
  }), IsOk());
  EXPECT_THAT(pool.Transact([](pqxx::work& tx) {
    tx.exec("CREATE TABLE consent.sneaky (id int)");
    return absl::OkStatus();
  }), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(pool.Transact([](pqxx::work& tx) {
    tx.exec("SELECT * FROM cdp_meta.migrations");
    return absl::OkStatus();
  }), StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST_F(MigrateTest, AuditRoleMayOnlyInsertAndRead) {
  ASSERT_THAT(ApplyMigrations(db_->AdminDsn(), migrations::audit()), IsOk());
  {
    pqxx::connection c(db_->AdminDsn());
    pqxx::work tx(c);
    tx.exec("CREATE TABLE audit.probe (id int)");
    tx.commit();
  }
  Pool pool({.dsn = db_->DsnAs("cdp_audit"), .size = 1});
  ASSERT_THAT(pool.Connect(), IsOk());
  EXPECT_THAT(pool.Transact([](pqxx::work& tx) {
    tx.exec("INSERT INTO probe VALUES (1)");
    tx.exec("SELECT * FROM probe");
    return absl::OkStatus();
  }), IsOk());
  for (const char* sql : {"UPDATE probe SET id = 2", "DELETE FROM probe", "TRUNCATE probe"}) {
    EXPECT_THAT(pool.Transact([&](pqxx::work& tx) {
      tx.exec(sql);
      return absl::OkStatus();
    }), StatusIs(absl::StatusCode::kPermissionDenied)) << sql;
  }
}

}  // namespace
}  // namespace cdp::storage
