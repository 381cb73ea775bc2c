#include "services/common/flags.h"

#include <map>
#include <string>

#include "absl/flags/flag.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

ABSL_FLAG(std::string, test_name, "default", "a string flag");
ABSL_FLAG(int, test_count, 3, "an int flag");
ABSL_FLAG(bool, test_switch, false, "a bool flag");

namespace cdp {
namespace {

using ::cdp::testing::IsOk;
using ::cdp::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::map<std::string, std::string>* fake_env = nullptr;
const char* FakeEnv(const char* name) {
  auto it = fake_env->find(name);
  return it == fake_env->end() ? nullptr : it->second.c_str();
}

class FlagsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fake_env = &env_;
    absl::SetFlag(&FLAGS_test_name, "default");
    absl::SetFlag(&FLAGS_test_count, 3);
    absl::SetFlag(&FLAGS_test_switch, false);
  }
  std::map<std::string, std::string> env_;
};

TEST_F(FlagsTest, EnvironmentSetsFlagAndCommandLineWins) {
  env_["CDP_TEST_NAME"] = "from-env";
  env_["CDP_TEST_COUNT"] = "7";
  ASSERT_THAT(ParseFlags({"--test_name=from-args"}, FakeEnv), IsOk());
  EXPECT_EQ(absl::GetFlag(FLAGS_test_name), "from-args");
  EXPECT_EQ(absl::GetFlag(FLAGS_test_count), 7);
}

TEST_F(FlagsTest, AcceptsSeparateValueAndBoolForms) {
  auto rest = ParseFlags({"--test_count", "9", "--test_switch", "cmd", "--", "--x"}, FakeEnv);
  ASSERT_THAT(rest, IsOk());
  EXPECT_EQ(absl::GetFlag(FLAGS_test_count), 9);
  EXPECT_TRUE(absl::GetFlag(FLAGS_test_switch));
  EXPECT_THAT(*rest, ElementsAre("cmd", "--x"));
  ASSERT_THAT(ParseFlags({"--notest_switch"}, FakeEnv), IsOk());
  EXPECT_FALSE(absl::GetFlag(FLAGS_test_switch));
}

TEST_F(FlagsTest, UnknownFlagIsNamed) {
  EXPECT_THAT(ParseFlags({"--no_such_flag=1"}, FakeEnv),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--no_such_flag")));
}

TEST_F(FlagsTest, BadValueNamesFlagOrVariable) {
  EXPECT_THAT(ParseFlags({"--test_count=many"}, FakeEnv),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--test_count")));
  env_["CDP_TEST_COUNT"] = "lots";
  EXPECT_THAT(ParseFlags({}, FakeEnv),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("CDP_TEST_COUNT")));
}

TEST_F(FlagsTest, MissingValueIsAnError) {
  EXPECT_THAT(ParseFlags({"--test_name"}, FakeEnv),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("needs a value")));
}

TEST(EnvNameForFlagTest, UpperCasesWithPrefix) { EXPECT_EQ(EnvNameForFlag("db_dsn"), "CDP_DB_DSN"); }

}  // namespace
}  // namespace cdp
