#include "consent/receipt.h"

#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <thread>
#include <vector>

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

// Ids come from a per-thread draw of random bytes (64 at a time): past the end of a draw,
// on other threads and in a forked child, each is still new.
TEST(ReceiptTest, UuidsDoNotRepeatAcrossDrawsThreadsOrAFork) {
  std::set<std::string> seen;
  for (int n = 0; n < 1000; ++n) EXPECT_TRUE(seen.insert(NewUuid()).second);
  std::vector<std::vector<std::string>> made(4);
  {
    std::vector<std::thread> threads;
    for (auto& ids : made) {
      threads.emplace_back([&ids] {
        for (int n = 0; n < 200; ++n) ids.push_back(NewUuid());
      });
    }
    for (std::thread& t : threads) t.join();
  }
  for (const auto& ids : made) {
    for (const std::string& id : ids) EXPECT_TRUE(seen.insert(id).second) << id;
  }
  // The draw is part-used here: a child that went on with it would give the parent's next ids.
  NewUuid();
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::string ids;
    for (int n = 0; n < 8; ++n) ids += NewUuid();
    const ssize_t written = write(fds[1], ids.data(), ids.size());
    _exit(written == static_cast<ssize_t>(ids.size()) ? 0 : 1);
  }
  close(fds[1]);
  std::string from_child(8 * 36, '\0');
  size_t got = 0;
  while (got < from_child.size()) {
    const ssize_t n = read(fds[0], from_child.data() + got, from_child.size() - got);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_EQ(got, from_child.size());
  for (int n = 0; n < 8; ++n) seen.insert(NewUuid());  // the parent's next ids
  for (size_t at = 0; at < from_child.size(); at += 36) {
    EXPECT_TRUE(seen.insert(from_child.substr(at, 36)).second) << "the child repeated " << from_child.substr(at, 36);
  }
}

}  // namespace
}  // namespace cdp::consent
