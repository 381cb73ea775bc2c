#include "services/common/caller.h"

#include <map>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace cdp::rpc {
namespace {

using ::cdp::testing::StatusIs;

struct EmptyIterator : grpc::AuthPropertyIterator {
  EmptyIterator() : grpc::AuthPropertyIterator() {}
};

// An AuthContext with fixed properties, standing in for the one gRPC builds from a
// verified TLS handshake.
class FakeAuthContext : public grpc::AuthContext {
 public:
  FakeAuthContext(bool authenticated, std::vector<std::string> uris)
      : authenticated_(authenticated), uris_(std::move(uris)) {}
  bool IsPeerAuthenticated() const override { return authenticated_; }
  std::vector<grpc::string_ref> GetPeerIdentity() const override { return {}; }
  std::string GetPeerIdentityPropertyName() const override { return ""; }
  std::vector<grpc::string_ref> FindPropertyValues(const std::string& name) const override {
    std::vector<grpc::string_ref> out;
    if (name == "peer_uri") for (const auto& u : uris_) out.emplace_back(u);
    return out;
  }
  grpc::AuthPropertyIterator begin() const override { return EmptyIterator(); }
  grpc::AuthPropertyIterator end() const override { return EmptyIterator(); }
  void AddProperty(const std::string&, const grpc::string_ref&) override {}
  bool SetPeerIdentityPropertyName(const std::string&) override { return false; }

 private:
  bool authenticated_;
  std::vector<std::string> uris_;
};

TEST(CallerTest, TakesTheSingleUriSan) {
  FakeAuthContext auth(true, {"spiffe://cdp.local/service/support-desk"});
  auto caller = CallerFromAuthContext(auth);
  ASSERT_TRUE(caller.ok());
  EXPECT_EQ(caller->id, "spiffe://cdp.local/service/support-desk");
}

TEST(CallerTest, UnauthenticatedPeerIsRefused) {
  FakeAuthContext auth(false, {"spiffe://cdp.local/service/support-desk"});
  EXPECT_THAT(CallerFromAuthContext(auth), StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST(CallerTest, MissingOrAmbiguousUriSanIsRefused) {
  FakeAuthContext none(true, {});
  EXPECT_THAT(CallerFromAuthContext(none), StatusIs(absl::StatusCode::kPermissionDenied));
  FakeAuthContext two(true, {"spiffe://a/x", "spiffe://b/y"});
  EXPECT_THAT(CallerFromAuthContext(two), StatusIs(absl::StatusCode::kPermissionDenied));
}

}  // namespace
}  // namespace cdp::rpc
