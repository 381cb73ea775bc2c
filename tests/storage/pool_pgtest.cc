#include "storage/pool.h"

#include <thread>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pqxx/pqxx"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_database.h"

namespace cdp::storage {
namespace {

using ::cdp::testing::IsOk;
using ::cdp::testing::StatusIs;
using ::cdp::testing::TestDatabase;

class PoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CDP_REQUIRE_PG();
    db_ = std::make_unique<TestDatabase>();
    pqxx::connection c(db_->AdminDsn());
    pqxx::work tx(c);
    tx.exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
    tx.commit();
  }
  std::unique_ptr<Pool> MakePool(int size = 2, std::vector<std::pair<std::string, std::string>> settings = {}) {
    return std::make_unique<Pool>(PoolOptions{
        .dsn = db_->AdminDsn(),
        .size = size,
        .acquire_timeout = absl::Seconds(2),
        .statements = {{"insert_t", "INSERT INTO t (id, v) VALUES ($1, $2)"},
                       {"count_t", "SELECT count(*) FROM t"}},
        .session_settings = std::move(settings)});
  }
  int64_t Count(Pool& pool) {
    int64_t n = -1;
    EXPECT_THAT(pool.Transact([&](pqxx::work& tx) {
      n = tx.exec_prepared1("count_t")[0].as<int64_t>();
      return absl::OkStatus();
    }), IsOk());
    return n;
  }
  // Ends the server process behind a connection, and waits until it is gone: its goodbye
  // is then on the pool's idle connection.
  void Terminate(int pid) {
    pqxx::connection admin(db_->AdminDsn());
    pqxx::nontransaction tx(admin);
    tx.exec_params("SELECT pg_terminate_backend($1)", pid);
    for (int i = 0; i < 500 && tx.exec_params1("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid)[0].as<int>() > 0;
         ++i) {
      absl::SleepFor(absl::Milliseconds(10));
    }
  }
  std::unique_ptr<TestDatabase> db_;
};

TEST_F(PoolTest, CommitsOnOkAndRollsBackOnError) {
  auto pool = MakePool();
  ASSERT_THAT(pool->Connect(), IsOk());
  ASSERT_THAT(pool->Transact([](pqxx::work& tx) {
    tx.exec_prepared("insert_t", 1, "a");
    return absl::OkStatus();
  }), IsOk());
  EXPECT_THAT(pool->Transact([](pqxx::work& tx) {
    tx.exec_prepared("insert_t", 2, "b");
    return absl::FailedPreconditionError("changed my mind");
  }), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(Count(*pool), 1);
}

TEST_F(PoolTest, AutocommitRunsEachStatementOnItsOwnWithoutATransactionAround) {
  auto pool = MakePool();
  ASSERT_THAT(pool->Connect(), IsOk());
  ASSERT_THAT(pool->Autocommit([](pqxx::transaction_base& tx) {
    // Outside BEGIN, each statement commits by itself: nothing to roll back afterwards.
    tx.exec_prepared("insert_t", 1, "a");
    EXPECT_EQ(tx.exec1("SELECT count(*) FROM pg_stat_activity WHERE pid = pg_backend_pid() "
                       "AND xact_start = query_start")[0].as<int>(), 1);
    return absl::FailedPreconditionError("too late to change my mind");
  }), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(Count(*pool), 1);
  EXPECT_THAT(pool->Autocommit([](pqxx::transaction_base& tx) {
    tx.exec_prepared("insert_t", 1, "again");
    return absl::OkStatus();
  }), StatusIs(absl::StatusCode::kAlreadyExists));
}

TEST_F(PoolTest, MapsServerErrorsToStatusCodes) {
  auto pool = MakePool();
  ASSERT_THAT(pool->Connect(), IsOk());
  ASSERT_THAT(pool->Transact([](pqxx::work& tx) {
    tx.exec_prepared("insert_t", 1, "a");
    return absl::OkStatus();
  }), IsOk());
  EXPECT_THAT(pool->Transact([](pqxx::work& tx) {
    tx.exec_prepared("insert_t", 1, "again");
    return absl::OkStatus();
  }), StatusIs(absl::StatusCode::kAlreadyExists));
  auto raise = [&](const std::string& state) {
    return pool->Transact([&](pqxx::work& tx) {
      tx.exec("DO $$ BEGIN RAISE EXCEPTION 'x' USING ERRCODE = '" + state + "'; END $$");
      return absl::OkStatus();
    });
  };
  EXPECT_THAT(raise("40001"), StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(raise("40P01"), StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(raise("22P02"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(Count(*pool), 1);  // the connections survived every error
}

TEST_F(PoolTest, NotConnectedOrUnreachableIsUnavailable) {
  auto pool = MakePool();
  EXPECT_THAT(pool->Transact([](pqxx::work&) { return absl::OkStatus(); }),
              StatusIs(absl::StatusCode::kUnavailable));
  Pool nowhere({.dsn = "host=127.0.0.1 port=1 connect_timeout=2", .size = 1});
  EXPECT_THAT(nowhere.Connect(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_FALSE(nowhere.connected());
}

TEST_F(PoolTest, AConnectionTheServerClosedWhileIdleIsReopenedBeforeUse) {
  auto pool = MakePool(1);
  ASSERT_THAT(pool->Connect(), IsOk());
  int pid = 0;
  ASSERT_THAT(pool->Transact([&](pqxx::work& tx) {
    pid = tx.exec1("SELECT pg_backend_pid()")[0].as<int>();
    return absl::OkStatus();
  }), IsOk());
  Terminate(pid);
  // Taken, the connection is found closed and reopened first: the statement runs.
  int after = 0;
  EXPECT_THAT(pool->Transact([&](pqxx::work& tx) {
    after = tx.exec1("SELECT pg_backend_pid()")[0].as<int>();
    return absl::OkStatus();
  }), IsOk());
  EXPECT_NE(after, pid);
  EXPECT_EQ(Count(*pool), 0);
}

TEST_F(PoolTest, ConnectionsRunWithoutJitAndWithThePoolsSettingsAlsoWhenReopened) {
  auto pool = MakePool(1, {{"plan_cache_mode", "force_generic_plan"}});
  ASSERT_THAT(pool->Connect(), IsOk());
  auto show = [&](const std::string& setting) {
    std::string value;
    EXPECT_THAT(pool->Transact([&](pqxx::work& tx) {
      value = tx.exec1("SHOW " + setting)[0].as<std::string>();
      return absl::OkStatus();
    }), IsOk());
    return value;
  };
  auto jit = [&] { return show("jit"); };
  EXPECT_EQ(jit(), "off");
  EXPECT_EQ(show("plan_cache_mode"), "force_generic_plan");
  int pid = 0;
  ASSERT_THAT(pool->Transact([&](pqxx::work& tx) {
    pid = tx.exec1("SELECT pg_backend_pid()")[0].as<int>();
    return absl::OkStatus();
  }), IsOk());
  Terminate(pid);
  EXPECT_EQ(jit(), "off");  // on the connection opened in its place
  EXPECT_EQ(show("plan_cache_mode"), "force_generic_plan");
}

TEST_F(PoolTest, ASessionSettingTheServerRefusesFailsTheConnect) {
  auto pool = MakePool(1, {{"no_such_setting", "1"}});
  // Not a reason to retry (services/common/service_host.cc stops on FailedPrecondition).
  EXPECT_THAT(pool->Connect(), StatusIs(absl::StatusCode::kFailedPrecondition, ::testing::HasSubstr("no_such_setting")));
  EXPECT_FALSE(pool->connected());
}

TEST_F(PoolTest, WaitersGetAConnectionWhenOneIsReturned) {
  auto pool = MakePool(1);
  ASSERT_THAT(pool->Connect(), IsOk());
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      if (pool->Transact([&](pqxx::work& tx) {
            tx.exec_prepared("insert_t", 100 + i, "x");
            return absl::OkStatus();
          }).ok()) {
        ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 4);
  EXPECT_EQ(Count(*pool), 4);
}

}  // namespace
}  // namespace cdp::storage
