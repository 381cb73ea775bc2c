#include "services/common/grpc_status.h"

#include "gtest/gtest.h"

namespace cdp::rpc {
namespace {

TEST(GrpcStatusTest, CodesAndMessagesSurviveTheRoundTrip) {
  for (int c = 1; c <= 16; ++c) {
    absl::Status s(static_cast<absl::StatusCode>(c), "why");
    grpc::Status g = ToGrpcStatus(s);
    EXPECT_EQ(static_cast<int>(g.error_code()), c);
    EXPECT_EQ(g.error_message(), "why");
    EXPECT_EQ(FromGrpcStatus(g), s);
  }
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
}

TEST(GrpcStatusTest, InvalidFieldNamesTheFieldFirst) {
  absl::Status s = InvalidField("customer_id", "must not be empty");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "customer_id: must not be empty");
}

}  // namespace
}  // namespace cdp::rpc
