#include "storage/crypto.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/process.h"
#include "tests/testing/status_matchers.h"

namespace cdp::storage {
namespace {

using ::cdp::testing::IsOk;
using ::cdp::testing::IsOkAndHolds;
using ::cdp::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

MasterKey Key() {
  auto k = MasterKey::FromText(MasterKey::GenerateText());
  EXPECT_THAT(k.status(), IsOk());
  return *k;
}

TEST(CryptoTest, SealedValuesOpenOnlyWithTheirKeyAndContext) {
  MasterKey master = Key();
  auto dek = master.UnwrapDataKey(master.NewWrappedDataKey("c-1"), "c-1");
  ASSERT_THAT(dek.status(), IsOk());
  std::string sealed = Seal(*dek, "jan.jansen@example.nl", "c-1/email");
  EXPECT_THAT(sealed, Not(HasSubstr("jansen")));
  EXPECT_THAT(Open(*dek, sealed, "c-1/email"), IsOkAndHolds(std::string("jan.jansen@example.nl")));
  // Moved to another field or customer: refused.
  EXPECT_THAT(Open(*dek, sealed, "c-1/phone").status(), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(Open(*dek, sealed, "c-2/email").status(), StatusIs(absl::StatusCode::kDataLoss));
  // Altered: refused.
  std::string altered = sealed;
  altered[altered.size() / 2] ^= 1;
  EXPECT_THAT(Open(*dek, altered, "c-1/email").status(), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(Open(*dek, "short", "c-1/email").status(), StatusIs(absl::StatusCode::kDataLoss));
  // Two seals of one value differ (random nonce).
  EXPECT_NE(Seal(*dek, "x", "a"), Seal(*dek, "x", "a"));
}

TEST(CryptoTest, DataKeysAreBoundToTheirCustomerAndMasterKey) {
  MasterKey master = Key();
  std::string wrapped = master.NewWrappedDataKey("c-1");
  EXPECT_THAT(master.UnwrapDataKey(wrapped, "c-2").status(), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(Key().UnwrapDataKey(wrapped, "c-1").status(), StatusIs(absl::StatusCode::kDataLoss));
  // Without its data key a value is gone: another customer's key does not open it.
  auto mine = master.UnwrapDataKey(wrapped, "c-1");
  auto other = master.UnwrapDataKey(master.NewWrappedDataKey("c-1"), "c-1");
  ASSERT_THAT(mine.status(), IsOk());
  ASSERT_THAT(other.status(), IsOk());
  EXPECT_THAT(Open(*other, Seal(*mine, "secret", "c-1/x"), "c-1/x").status(),
              StatusIs(absl::StatusCode::kDataLoss));
}

TEST(CryptoTest, LookupHashesAreKeyedAndSeparatedByKind) {
  MasterKey a = Key(), b = Key();
  EXPECT_EQ(a.LookupHash("email", "jan@example.nl"), a.LookupHash("email", "jan@example.nl"));
  EXPECT_NE(a.LookupHash("email", "jan@example.nl"), b.LookupHash("email", "jan@example.nl"));
  EXPECT_NE(a.LookupHash("email", "x"), a.LookupHash("phone", "x"));
  EXPECT_EQ(a.LookupHash("email", "x").size(), 32u);
}

// Hashes already stored must keep matching: HMAC-SHA256(HMAC-SHA256(master, "cdp lookup
// hash key v1"), kind || 0 || value), computed apart (Python's hmac). Two keys used in
// turn on one thread, which keeps one keyed context.
TEST(CryptoTest, LookupHashesAreTheDocumentedHmac) {
  auto a = MasterKey::FromText("cdp-master-key-v1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
  auto b = MasterKey::FromText("cdp-master-key-v1:ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=");
  ASSERT_THAT(a.status(), IsOk());
  ASSERT_THAT(b.status(), IsOk());
  auto hex = [](const std::string& s) { return absl::BytesToHexString(s); };
  for (int round = 0; round < 2; ++round) {
    EXPECT_EQ(hex(a->LookupHash("lookup", "email:jan@example.nl")),
              "cc81a7ad1766894242a3efda160b9075e88cb107a0a4c2fe78867c4ae299b04a");
    EXPECT_EQ(hex(b->LookupHash("lookup", "email:jan@example.nl")),
              "824982254ceb6edf231dcd985544f7033229b8e0f19d60ac7228389832c07388");
    EXPECT_EQ(hex(b->LookupHash("email", "")), "aa2496c5db985a9fafa843be7e69cffc36c7d538add5f33cb51b8033c38c49d0");
    EXPECT_EQ(hex(a->LookupHash("email", "")), "2b029ef0bb4e82f1dbb49de89ba62c1e68679df158d391d4715bfabd3ddf3e3f");
  }
}

// Each thread keeps OpenSSL contexts of its own: what one thread sealed or hashed, another
// opens or hashes alike.
TEST(CryptoTest, ValuesSealedOnOneThreadOpenOnAnother) {
  MasterKey master = Key();
  auto dek = master.UnwrapDataKey(master.NewWrappedDataKey("c-1"), "c-1");
  ASSERT_THAT(dek.status(), IsOk());
  std::string sealed, hash;
  std::thread([&] {
    sealed = Seal(*dek, "0612345678", "c-1/phone");
    hash = master.LookupHash("phone", "+31612345678");
  }).join();
  EXPECT_THAT(Open(*dek, sealed, "c-1/phone"), IsOkAndHolds(std::string("0612345678")));
  EXPECT_EQ(master.LookupHash("phone", "+31612345678"), hash);
}

// Nonces come from a buffer each thread fills: no two draws, on one thread or two, and
// across refills, hand out the same bytes.
TEST(CryptoTest, PublicRandomBytesAreNeverHandedOutTwice) {
  std::set<std::string> seen;
  std::vector<std::string> other(3000);
  std::thread second([&] {
    for (std::string& s : other) {
      s.resize(12);
      PublicRandomBytes(reinterpret_cast<unsigned char*>(s.data()), s.size());
    }
  });
  for (int i = 0; i < 3000; ++i) {  // about nine fills of 4 KB
    std::string s(12, '\0');
    PublicRandomBytes(reinterpret_cast<unsigned char*>(s.data()), s.size());
    EXPECT_TRUE(seen.insert(s).second) << "draw " << i;
  }
  second.join();
  for (const std::string& s : other) EXPECT_TRUE(seen.insert(s).second);
  // A draw larger than the buffer keeps is made directly, and differs too.
  std::string large(8192, '\0');
  PublicRandomBytes(reinterpret_cast<unsigned char*>(large.data()), large.size());
  EXPECT_NE(large, std::string(8192, '\0'));
}

// A forked child holds a copy of its parent's buffer: it must not hand out what the parent
// will (two sealed values with one nonce and key give the key stream away).
TEST(CryptoTest, AForkedChildDrawsOtherBytesThanItsParent) {
  unsigned char warm[12];
  PublicRandomBytes(warm, sizeof(warm));  // the buffer is full now, and the child copies it
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    unsigned char mine[12];
    PublicRandomBytes(mine, sizeof(mine));
    _exit(write(fds[1], mine, sizeof(mine)) == static_cast<ssize_t>(sizeof(mine)) ? 0 : 1);
  }
  close(fds[1]);
  unsigned char theirs[12], mine[12];
  ASSERT_EQ(read(fds[0], theirs, sizeof(theirs)), static_cast<ssize_t>(sizeof(theirs)));
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  PublicRandomBytes(mine, sizeof(mine));
  EXPECT_NE(std::string(reinterpret_cast<char*>(mine), 12), std::string(reinterpret_cast<char*>(theirs), 12));
}

TEST(CryptoTest, KeyFilesAreCheckedForFormatAndPermissions) {
  const std::string dir = testing::MakeTempDir();
  const std::string path = dir + "/master.key";
  std::ofstream(path) << MasterKey::GenerateText();
  chmod(path.c_str(), 0600);
  EXPECT_THAT(MasterKey::FromFile(path).status(), IsOk());
  chmod(path.c_str(), 0644);
  EXPECT_THAT(MasterKey::FromFile(path).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("readable by everyone")));
  std::ofstream(dir + "/bad.key") << "hello";
  chmod((dir + "/bad.key").c_str(), 0600);
  EXPECT_THAT(MasterKey::FromFile(dir + "/bad.key").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bad.key: not a master key")));
  EXPECT_THAT(MasterKey::FromFile(dir + "/none.key").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cannot read")));
}

}  // namespace
}  // namespace cdp::storage
