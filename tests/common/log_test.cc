#include "services/common/log.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cdp::log {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(LogTest, LineIsOneJsonObjectWithTypedFields) {
  SetServiceName("consent");
  std::string line = FormatLine(Level::kWarning, "db_retry",
                                {{"attempt", 3}, {"ok", false}, {"ms", 1.5}, {"schema", "consent"}});
  EXPECT_THAT(line, StartsWith("{\"ts\":\""));
  EXPECT_THAT(line, EndsWith("}\n"));
  EXPECT_THAT(line, HasSubstr("\"level\":\"warning\",\"service\":\"consent\",\"event\":\"db_retry\""));
  EXPECT_THAT(line, HasSubstr("\"attempt\":3,\"ok\":false,\"ms\":1.5,\"schema\":\"consent\""));
  EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1);
}

TEST(LogTest, EscapesQuotesControlCharactersAndNewlines) {
  std::string out;
  AppendJsonString(out, "a\"b\\c\nd\x01");
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\nd\\u0001\"");
}

TEST(LogTest, NonFiniteNumbersBecomeNull) {
  std::string line = FormatLine(Level::kInfo, "x", {{"v", 1.0 / 0.0}});
  EXPECT_THAT(line, HasSubstr("\"v\":null"));
}

}  // namespace
}  // namespace cdp::log
