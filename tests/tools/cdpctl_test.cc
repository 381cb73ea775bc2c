// cdpctl as a user runs it: the real binary, its exit codes and what it prints.
#include <algorithm>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/process.h"
#include "tests/testing/status_matchers.h"

namespace cdp {
namespace {

using ::cdp::testing::IsOk;
using ::testing::HasSubstr;

const std::string kCdpctl = std::string(CDP_BINARY_DIR) + "/tools/cdpctl/cdpctl";
const std::string kDefault = std::string(CDP_SOURCE_DIR) + "/consent/catalog/default.textproto";

TEST(CdpctlTest, CheckCatalogAcceptsTheDefaultCatalog) {
  auto run = testing::RunToCompletion(kCdpctl, {"check-catalog", kDefault}, absl::Seconds(20));
  ASSERT_THAT(run, IsOk());
  EXPECT_EQ(run->exit_code, 0);
  EXPECT_THAT(run->output, HasSubstr("is valid: 21 fields, 12 purposes"));
}

TEST(CdpctlTest, CheckCatalogNamesTheLineOfAnError) {
  std::string text = testing::ReadFileOrDie(kDefault);
  size_t at = text.find("fields: \"email\"");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 15, "fields: \"emial\"");
  int line = 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(at), '\n'));
  std::string bad = testing::MakeTempDir() + "/bad.textproto";
  std::ofstream(bad) << text;
  auto run = testing::RunToCompletion(kCdpctl, {"check-catalog", bad}, absl::Seconds(20));
  ASSERT_THAT(run, IsOk());
  EXPECT_EQ(run->exit_code, 1);
  EXPECT_THAT(run->output, HasSubstr(bad + ":" + std::to_string(line) + ":3: purpose \"billing\": "
                                     "unknown field \"emial\""));
}

TEST(CdpctlTest, UnknownCommandExitsTwo) {
  auto run = testing::RunToCompletion(kCdpctl, {"frobnicate"}, absl::Seconds(20));
  ASSERT_THAT(run, IsOk());
  EXPECT_EQ(run->exit_code, 2);
  EXPECT_THAT(run->output, HasSubstr("unknown command 'frobnicate'"));
}

}  // namespace
}  // namespace cdp
