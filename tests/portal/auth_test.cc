#include "services/portal/auth.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace cdp::portal {
namespace {

using ::cdp::testing::IsOk;

TEST(AuthTest, TokensAreLongRandomAndUrlSafe) {
  const std::string a = RandomToken(), b = RandomToken();
  EXPECT_EQ(a.size(), 43u);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), std::string::npos);
}

TEST(AuthTest, PasswordsVerifyOnlyThemselves) {
  auto hash = HashPassword("correct horse battery staple");
  ASSERT_THAT(hash.status(), IsOk());
  EXPECT_THAT(*hash, ::testing::StartsWith("$argon2id$v=19$m=19456,t=2,p=1$"));
  EXPECT_TRUE(VerifyPassword(*hash, "correct horse battery staple"));
  EXPECT_FALSE(VerifyPassword(*hash, "correct horse battery stapler"));
  EXPECT_FALSE(VerifyPassword("not a hash", "x"));
  EXPECT_NE(*HashPassword("same"), *HashPassword("same"));  // salted
  EXPECT_FALSE(HashPassword("").ok());
}

// RFC 6238 appendix B, SHA-1 (the 8-digit codes, last six digits).
TEST(AuthTest, TotpMatchesRfc6238Vectors) {
  const std::string secret = "12345678901234567890";
  EXPECT_EQ(TotpCode(secret, absl::FromUnixSeconds(59)), "287082");
  EXPECT_EQ(TotpCode(secret, absl::FromUnixSeconds(1111111109)), "081804");
  EXPECT_EQ(TotpCode(secret, absl::FromUnixSeconds(1234567890)), "005924");
  EXPECT_EQ(TotpCode(secret, absl::FromUnixSeconds(20000000000)), "353130");
}

TEST(AuthTest, TotpAcceptsOneStepOfDriftAndNoMore) {
  const std::string secret = "12345678901234567890";
  const absl::Time now = absl::FromUnixSeconds(1234567890);
  EXPECT_TRUE(VerifyTotp(secret, TotpCode(secret, now - absl::Seconds(30)), now));
  EXPECT_TRUE(VerifyTotp(secret, TotpCode(secret, now + absl::Seconds(30)), now));
  EXPECT_FALSE(VerifyTotp(secret, TotpCode(secret, now - absl::Seconds(90)), now));
  EXPECT_FALSE(VerifyTotp(secret, "", now));
}

TEST(AuthTest, Base32IsRfc4648) {
  EXPECT_EQ(Base32("foobar"), "MZXW6YTBOI");
  EXPECT_EQ(Base32("12345678901234567890"), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
}

}  // namespace
}  // namespace cdp::portal
