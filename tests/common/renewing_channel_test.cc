// A failed call replaces only the channel it went over: many calls failing together on
// one channel make one new channel, and a late report about an old channel changes nothing.
#include <atomic>
#include <thread>
#include <vector>

#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "services/common/tls.h"

namespace cdp::rpc {
namespace {

TEST(RenewingChannelTest, ConcurrentFailuresOnOneChannelMakeOneNewChannel) {
  std::atomic<int> made{0};
  RenewingChannel channel([&] {
    ++made;
    return grpc::CreateChannel("127.0.0.1:1", grpc::InsecureChannelCredentials());
  });
  ASSERT_EQ(made.load(), 1);
  const auto first = channel.get();
  std::vector<std::thread> calls;
  for (int i = 0; i < 16; ++i) {
    calls.emplace_back([&] { channel.Observe(absl::StatusCode::kUnavailable, first); });
  }
  for (auto& t : calls) t.join();
  EXPECT_EQ(made.load(), 2);
  const auto second = channel.get();
  EXPECT_NE(second, first);

  channel.Observe(absl::StatusCode::kUnavailable, first);  // late news about the old one
  EXPECT_EQ(channel.get(), second);
  channel.Observe(absl::StatusCode::kPermissionDenied, second);  // not the channel's fault
  EXPECT_EQ(channel.get(), second);
  channel.Observe(absl::StatusCode::kUnavailable, second);
  EXPECT_EQ(made.load(), 3);
  EXPECT_NE(channel.get(), second);
}

}  // namespace
}  // namespace cdp::rpc
