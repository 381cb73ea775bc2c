#include "consent/receipt.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace cdp::consent {
namespace {

using ::cdp::testing::IsOk;
using ::cdp::testing::StatusIs;
using ::testing::HasSubstr;

TEST(ReceiptTest, SignsACompactJwsThatVerifiesOnlyWithItsKey) {
  auto signer = ReceiptSigner::FromPem(NewEd25519PrivateKeyPem());
  ASSERT_THAT(signer.status(), IsOk());
  const std::string jws = (*signer)->Sign(R"({"hello":"wereld"})");
  std::vector<std::string> parts = absl::StrSplit(jws, '.');
  ASSERT_EQ(parts.size(), 3u);
  std::string header;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(parts[0], &header));
  EXPECT_THAT(header, HasSubstr(R"("alg":"EdDSA")"));
  EXPECT_THAT(header, HasSubstr((*signer)->key_id()));
  EXPECT_EQ((*signer)->key_id().size(), 16u);
  EXPECT_THAT(VerifyJws(jws, (*signer)->public_key_pem()),
              testing::IsOkAndHolds(std::string(R"({"hello":"wereld"})")));

  auto other = ReceiptSigner::FromPem(NewEd25519PrivateKeyPem());
  ASSERT_THAT(other.status(), IsOk());
  EXPECT_THAT(VerifyJws(jws, (*other)->public_key_pem()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("does not verify")));
  EXPECT_THAT(VerifyJws("a.b", (*signer)->public_key_pem()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("three parts")));
  // "alg": "none" and friends are refused whatever the signature.
  std::string none;
  absl::WebSafeBase64Escape(R"({"alg":"none"})", &none);
  EXPECT_THAT(VerifyJws(none + "." + parts[1] + "." + parts[2], (*signer)->public_key_pem()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not EdDSA")));
}

TEST(ReceiptTest, RefusesKeysThatAreNotEd25519) {
  EXPECT_THAT(ReceiptSigner::FromPem("not a key").status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ReceiptSigner::FromPemFile("/nonexistent/key.pem").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("/nonexistent/key.pem")));
}

TEST(ReceiptTest, UuidsAreVersionFour) {
  std::string a = NewUuid(), b = NewUuid();
  EXPECT_NE(a, b);
  ASSERT_EQ(a.size(), 36u);
  EXPECT_EQ(a[14], '4');
  EXPECT_THAT(std::string("89ab"), HasSubstr(std::string(1, a[19])));
  // 8-4-4-4-12 lower-case hex digits.
  for (int n = 0; n < 100; ++n) {
    const std::string u = NewUuid();
    for (size_t i = 0; i < u.size(); ++i) {
      if (i == 8 || i == 13 || i == 18 || i == 23) {
        EXPECT_EQ(u[i], '-') << u;
      } else {
        EXPECT_NE(std::string("0123456789abcdef").find(u[i]), std::string::npos) << u;
      }
    }
  }
}

}  // namespace
}  // namespace cdp::consent
