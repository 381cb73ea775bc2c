#include "storage/crypto.h"

#include <sys/stat.h>

#include <fstream>

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
