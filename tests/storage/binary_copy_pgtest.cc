#include "storage/binary_copy.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_database.h"

namespace cdp::storage {
namespace {

using ::cdp::testing::IsOk;
using ::cdp::testing::StatusIs;
using ::cdp::testing::TestDatabase;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

class BinaryCopyTest : public ::testing::Test {
 protected:
  void SetUp() override { CDP_REQUIRE_PG(); db_ = std::make_unique<TestDatabase>(); }
  std::unique_ptr<TestDatabase> db_;
};

TEST_F(BinaryCopyTest, DecodesEveryColumnKindTheServerSends) {
  struct Row {
    int64_t n = 0;
    absl::Time at;
    std::string text, raw;
    bool raw_null = false;
  };
  std::vector<Row> rows;
  const std::string query =
      "SELECT * FROM (VALUES "
      "(1::int8, timestamptz '2026-12-04 17:00:00.123456+00', 'bc'::text, '\\x00ff10'::bytea), "
      "(-5::int8, timestamptz '1999-12-31 23:59:59+00', ''::text, NULL::bytea)) v ORDER BY 1 DESC";
  ASSERT_THAT(CopyOutBinary(db_->AdminDsn(), query,
                            [&](const BinaryRow& r) -> absl::Status {
                              EXPECT_EQ(r.size(), 4);
                              Row row;
                              if (absl::Status s = r.Int64(0, &row.n); !s.ok()) return s;
                              if (absl::Status s = r.Timestamp(1, &row.at); !s.ok()) return s;
                              row.text = std::string(r.bytes(2));
                              row.raw = std::string(r.bytes(3));
                              row.raw_null = r.null(3);
                              rows.push_back(std::move(row));
                              return absl::OkStatus();
                            }),
              IsOk());
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].n, 1);
  EXPECT_EQ(rows[0].at, absl::FromUnixMicros(1796403600123456));
  EXPECT_EQ(rows[0].text, "bc");
  EXPECT_EQ(rows[0].raw, std::string("\x00\xff\x10", 3));
  EXPECT_FALSE(rows[0].raw_null);
  EXPECT_EQ(rows[1].n, -5);
  EXPECT_EQ(rows[1].at, absl::FromUnixSeconds(946684799));  // before PostgreSQL's epoch
  EXPECT_EQ(rows[1].text, "");
  EXPECT_TRUE(rows[1].raw_null);
}

TEST_F(BinaryCopyTest, ManyRowsArriveInOrderAndACallbackErrorStopsTheCopy) {
  int64_t expected = 0;
  ASSERT_THAT(CopyOutBinary(db_->AdminDsn(), "SELECT g::int8, repeat('x', 200) FROM generate_series(0, 99999) g",
                            [&](const BinaryRow& r) -> absl::Status {
                              int64_t n = -1;
                              if (absl::Status s = r.Int64(0, &n); !s.ok()) return s;
                              EXPECT_EQ(n, expected);
                              EXPECT_EQ(r.bytes(1).size(), 200u);
                              ++expected;
                              return absl::OkStatus();
                            }),
              IsOk());
  EXPECT_EQ(expected, 100000);

  int seen = 0;
  EXPECT_THAT(CopyOutBinary(db_->AdminDsn(), "SELECT g::int8 FROM generate_series(1, 100000) g",
                            [&](const BinaryRow&) -> absl::Status {
                              return ++seen == 10 ? absl::AbortedError("enough") : absl::OkStatus();
                            }),
              StatusIs(absl::StatusCode::kAborted, HasSubstr("enough")));
  EXPECT_EQ(seen, 10);
}

TEST_F(BinaryCopyTest, CopiesRunWithoutJit) {
  std::string jit;
  ASSERT_THAT(CopyOutBinary(db_->AdminDsn(), "SELECT current_setting('jit')",
                            [&](const BinaryRow& r) {
                              jit = std::string(r.bytes(0));
                              return absl::OkStatus();
                            }),
              IsOk());
  EXPECT_EQ(jit, "off");
}

TEST_F(BinaryCopyTest, ErrorsSayWhatFailedWithoutTheServersText) {
  auto ignore = [](const BinaryRow&) { return absl::OkStatus(); };
  // The server's message would quote the value; only the SQLSTATE is passed on.
  // Mapped as for every other statement (storage/pg_status.h).
  EXPECT_THAT(CopyOutBinary(db_->AdminDsn(), "SELECT 'secret-value'::int8", ignore),
              StatusIs(absl::StatusCode::kInvalidArgument, AllOf(HasSubstr("22P02"), Not(HasSubstr("secret")))));
  EXPECT_THAT(CopyOutBinary(db_->AdminDsn(), "SELECT * FROM no_such_table", ignore),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("42P01")));
  EXPECT_THAT(CopyOutBinary(absl::StrCat(db_->AdminDsn(), " user=no_such_role"), "SELECT 1", ignore),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("cannot connect")));
  // A column read as the wrong kind is malformed data, not a crash.
  EXPECT_THAT(CopyOutBinary(db_->AdminDsn(), "SELECT 7::int4",
                            [](const BinaryRow& r) {
                              int64_t n = 0;
                              return r.Int64(0, &n);
                            }),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("int8")));
  // Times that are not finite.
  EXPECT_THAT(CopyOutBinary(db_->AdminDsn(), "SELECT 'infinity'::timestamptz",
                            [](const BinaryRow& r) {
                              absl::Time t;
                              return r.Timestamp(0, &t);
                            }),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("finite")));
  // A column that is not there reads as NULL, never past the row.
  EXPECT_THAT(CopyOutBinary(db_->AdminDsn(), "SELECT 1::int8",
                            [](const BinaryRow& r) {
                              EXPECT_TRUE(r.null(1));
                              EXPECT_TRUE(r.bytes(7).empty());
                              int64_t n = 0;
                              return r.Int64(1, &n);
                            }),
              StatusIs(absl::StatusCode::kDataLoss));
}

}  // namespace
}  // namespace cdp::storage
