// Array parameters round-trip through PostgreSQL: whatever text elements hold (quotes,
// backslashes, commas, braces, spaces, the word NULL, nothing at all, UTF-8), and whatever
// bytes (zeros, high bytes, nothing), the server reads back exactly the elements that went
// in.
#include "storage/sql_array.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pqxx/pqxx"
#include "tests/testing/test_database.h"

namespace cdp::storage {
namespace {

TEST(SqlArrayTest, EveryElementComesBackAsItWent) {
  CDP_REQUIRE_PG();
  cdp::testing::TestDatabase db;
  pqxx::connection c(db.AdminDsn());
  const std::vector<std::vector<std::string>> cases = {
      {},
      {""},
      {"plain", "two words", "a,b", "{braces}", "NULL", "null"},
      {"quote \" inside", "\"", "back\\slash", "\\", "\\\"", "end\\"},
      {"Ĳsselmeer", "straße 12", "日本", " lead and trail "},
  };
  for (const auto& values : cases) {
    pqxx::work tx(c);
    const pqxx::result r = tx.exec_params(
        "SELECT coalesce(array_length(a, 1), 0), x FROM (SELECT $1::text[] AS a) s "
        "LEFT JOIN LATERAL unnest(a) WITH ORDINALITY AS u(x, n) ON true ORDER BY n",
        TextArray(values));
    std::vector<std::string> back;
    for (const auto& row : r) {
      if (!row[1].is_null()) back.push_back(row[1].as<std::string>());
    }
    EXPECT_EQ(back, values) << TextArray(values);
    EXPECT_EQ(r[0][0].as<size_t>(), values.size());
  }
}

TEST(SqlArrayTest, EveryByteaElementComesBackAsItWent) {
  CDP_REQUIRE_PG();
  cdp::testing::TestDatabase db;
  pqxx::connection c(db.AdminDsn());
  std::string all_bytes;
  for (int b = 0; b < 256; ++b) all_bytes.push_back(static_cast<char>(b));
  const std::vector<std::vector<std::string>> cases = {
      {},
      {""},
      {std::string("\0\0", 2), "\\x00", "NULL", "{\"}\"", all_bytes},
      {std::string(100000, '\xff'), "", "a"},
  };
  for (const auto& values : cases) {
    pqxx::work tx(c);
    const pqxx::result r = tx.exec_params(
        "SELECT coalesce(array_length(a, 1), 0), x FROM (SELECT $1::bytea[] AS a) s "
        "LEFT JOIN LATERAL unnest(a) WITH ORDINALITY AS u(x, n) ON true ORDER BY n",
        ByteaArray(values));
    std::vector<std::string> back;
    for (const auto& row : r) {
      if (!row[1].is_null()) back.push_back(pqxx::binarystring(row[1]).str());
    }
    EXPECT_EQ(back, values);
    EXPECT_EQ(r[0][0].as<size_t>(), values.size());
  }
}

// One bytea[] per row, as ingestion passes each record's lookup hashes: the text forms
// as elements of a text[], each element cast back to bytea[].
TEST(SqlArrayTest, ByteaArraysNestedInATextArrayComeBackAsTheyWent) {
  CDP_REQUIRE_PG();
  cdp::testing::TestDatabase db;
  pqxx::connection c(db.AdminDsn());
  std::string all_bytes;
  for (int b = 0; b < 256; ++b) all_bytes.push_back(static_cast<char>(b));
  const std::vector<std::vector<std::string>> rows = {
      {},
      {"", std::string("\0\0", 2), "\\x00", "NULL", "{\"}\","},
      {all_bytes, std::string(16, '\xff')},
  };
  std::vector<std::string> texts;
  for (const auto& values : rows) texts.push_back(ByteaArrayText(values));
  pqxx::work tx(c);
  const pqxx::result r = tx.exec_params(
      "SELECT n, coalesce(array_length(a, 1), 0), x FROM unnest($1::text[]) WITH ORDINALITY AS t(s, n), "
      "LATERAL (SELECT t.s::bytea[] AS a) c LEFT JOIN LATERAL unnest(c.a) WITH ORDINALITY AS u(x, m) ON true "
      "ORDER BY n, m",
      TextArray(texts));
  std::vector<std::vector<std::string>> back(rows.size());
  for (const auto& row : r) {
    const size_t n = row[0].as<size_t>() - 1;
    ASSERT_LT(n, rows.size());
    EXPECT_EQ(row[1].as<size_t>(), rows[n].size());
    if (!row[2].is_null()) back[n].push_back(pqxx::binarystring(row[2]).str());
  }
  EXPECT_EQ(back, rows);
}

// The binary array is read as bytea[] only: the server refuses it as any other type
// rather than reading its bytes as something else.
TEST(SqlArrayTest, ByteaArrayIsNoOtherType) {
  CDP_REQUIRE_PG();
  cdp::testing::TestDatabase db;
  pqxx::connection c(db.AdminDsn());
  pqxx::work tx(c);
  EXPECT_THROW(tx.exec_params("SELECT $1::text[]", ByteaArray({"a"})), pqxx::sql_error);
}

}  // namespace
}  // namespace cdp::storage
