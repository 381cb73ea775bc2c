// A fresh PostgreSQL database per test, on the server named by CDP_TEST_PG_DSN (a DSN of
// a superuser; tests/run.sh starts a throwaway server and sets it). Dropped on destruction.
#ifndef CDP_TESTS_TESTING_TEST_DATABASE_H_
#define CDP_TESTS_TESTING_TEST_DATABASE_H_

#include <memory>
#include <mutex>
#include <string>

namespace cdp::testing {

// The DSN from CDP_TEST_PG_DSN, or "" if unset.
std::string ServerDsn();

class TestDatabase {
 public:
  // Creates a database with a unique name. Aborts the test binary if the server is
  // unreachable: a pg test that cannot reach its server must fail, not pass.
  TestDatabase();
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  const std::string& name() const { return name_; }
  // DSN of the superuser on this database.
  std::string AdminDsn() const;
  // DSN of `role` on this database (local connections are trusted on the test server).
  std::string DsnAs(const std::string& role) const;
  // A second database, made on first use and dropped with this one: the ingest service's
  // key store, which lives apart from the data (storage/key_store.h).
  const TestDatabase& Keys() const;

 private:
  std::string name_;
  mutable std::once_flag keys_once_;
  mutable std::unique_ptr<TestDatabase> keys_;
};

// In a pg test: GTEST_SKIP when CDP_TEST_PG_DSN is unset (a developer running one test
// binary by hand); tests/run.sh always sets it, so CI never skips.
#define CDP_REQUIRE_PG()                                                       \
  do {                                                                         \
    if (::cdp::testing::ServerDsn().empty())                                   \
      GTEST_SKIP() << "CDP_TEST_PG_DSN is not set; run through tests/run.sh";  \
  } while (false)

}  // namespace cdp::testing

#endif  // CDP_TESTS_TESTING_TEST_DATABASE_H_
