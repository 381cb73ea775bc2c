// gtest matchers for absl::Status and absl::StatusOr<T>:
//   EXPECT_THAT(DoThing(), IsOk());
//   EXPECT_THAT(Lookup(), StatusIs(absl::StatusCode::kNotFound));
//   EXPECT_THAT(Lookup(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("email")));
#ifndef CDP_TESTS_TESTING_STATUS_MATCHERS_H_
#define CDP_TESTS_TESTING_STATUS_MATCHERS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"

namespace cdp::testing {

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

MATCHER(IsOk, "is OK") {
  const absl::Status& s = GetStatus(arg);
  if (!s.ok()) *result_listener << "status is " << s;
  return s.ok();
}

MATCHER_P(StatusIs, code, "has code " + absl::StatusCodeToString(code)) {
  const absl::Status& s = GetStatus(arg);
  *result_listener << "status is " << s;
  return s.code() == code;
}

MATCHER_P2(StatusIs, code, message_matcher,
           "has code " + absl::StatusCodeToString(code) + " and a matching message") {
  const absl::Status& s = GetStatus(arg);
  *result_listener << "status is " << s;
  return s.code() == code &&
         ::testing::Matches(message_matcher)(std::string(s.message()));
}

MATCHER_P(IsOkAndHolds, value_matcher, "is OK and holds a matching value") {
  if (!arg.ok()) {
    *result_listener << "status is " << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(value_matcher, *arg, result_listener);
}

#define ASSERT_OK(expr) ASSERT_THAT((expr), ::cdp::testing::IsOk())
#define EXPECT_OK(expr) EXPECT_THAT((expr), ::cdp::testing::IsOk())

}  // namespace cdp::testing

#endif  // CDP_TESTS_TESTING_STATUS_MATCHERS_H_
