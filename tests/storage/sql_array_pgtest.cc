// Array literals round-trip through PostgreSQL: whatever the strings hold (quotes,
// backslashes, commas, braces, spaces, the word NULL, nothing at all, UTF-8), the server
// reads back exactly the elements that went in.
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

}  // namespace
}  // namespace cdp::storage
