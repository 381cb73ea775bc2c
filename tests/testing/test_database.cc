#include "tests/testing/test_database.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "absl/strings/str_cat.h"
#include "pqxx/pqxx"

namespace cdp::testing {

std::string ServerDsn() {
  const char* dsn = std::getenv("CDP_TEST_PG_DSN");
  return dsn == nullptr ? "" : dsn;
}

TestDatabase::TestDatabase() {
  static std::atomic<int> counter{0};
  std::random_device rd;
  name_ = absl::StrCat("cdp_test_", getpid(), "_", counter++, "_", rd() % 100000);
  try {
    pqxx::connection c(ServerDsn());
    pqxx::nontransaction tx(c);
    tx.exec(absl::StrCat("CREATE DATABASE ", name_));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cannot create test database on CDP_TEST_PG_DSN: %s\n", e.what());
    std::abort();
  }
}

TestDatabase::~TestDatabase() {
  try {
    pqxx::connection c(ServerDsn());
    pqxx::nontransaction tx(c);
    tx.exec(absl::StrCat("DROP DATABASE IF EXISTS ", name_, " WITH (FORCE)"));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "warning: cannot drop test database %s: %s\n", name_.c_str(), e.what());
  }
}

std::string TestDatabase::AdminDsn() const { return absl::StrCat(ServerDsn(), " dbname=", name_); }

std::string TestDatabase::DsnAs(const std::string& role) const {
  return absl::StrCat(ServerDsn(), " dbname=", name_, " user=", role);
}

const TestDatabase& TestDatabase::Keys() const {
  std::call_once(keys_once_, [this] { keys_ = std::make_unique<TestDatabase>(); });
  return *keys_;
}

}  // namespace cdp::testing
