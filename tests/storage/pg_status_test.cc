#include "storage/pg_status.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pqxx/except"

namespace cdp::storage {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

template <typename E>
absl::Status Map(E e) {
  return StatusFromException(std::make_exception_ptr(e));
}

TEST(PgStatusTest, MapsTheDocumentedExceptions) {
  EXPECT_EQ(Map(pqxx::unique_violation("x", "q", "23505")).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Map(pqxx::serialization_failure("x")).code(), absl::StatusCode::kAborted);
  EXPECT_EQ(Map(pqxx::deadlock_detected("x")).code(), absl::StatusCode::kAborted);
  EXPECT_EQ(Map(pqxx::insufficient_privilege("x", "q", "42501")).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Map(pqxx::broken_connection("gone")).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(Map(pqxx::in_doubt_error("?")).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(Map(pqxx::foreign_key_violation("x", "q", "23503")).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Map(pqxx::data_exception("x", "q", "22P02")).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Map(std::runtime_error("x")).code(), absl::StatusCode::kInternal);
}

TEST(PgStatusTest, NeverRepeatsTheServerMessage) {
  // PostgreSQL quotes offending values in its messages; they may be personal data.
  absl::Status s = Map(pqxx::unique_violation(
      "ERROR: duplicate key\nDETAIL: Key (email)=(jan@example.nl) already exists.", "q", "23505"));
  EXPECT_THAT(std::string(s.message()), Not(HasSubstr("jan@example.nl")));
  EXPECT_THAT(std::string(s.message()), HasSubstr("23505"));
}

}  // namespace
}  // namespace cdp::storage
