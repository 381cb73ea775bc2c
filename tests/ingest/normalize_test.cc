#include "services/ingest/normalize.h"

#include <random>

#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace cdp::ingest {
namespace {

using ::cdp::testing::IsOkAndHolds;
using ::cdp::testing::StatusIs;

TEST(NormalizeTest, FoldsAccentsCaseAndPunctuation) {
  EXPECT_EQ(FoldText("  Anne-Marie  Çelik "), "anne marie celik");
  EXPECT_EQ(FoldText("Zoë Brückner-Ødegård"), "zoe bruckner odegard");
  EXPECT_EQ(FoldText("IJsbrand Strauß"), "ijsbrand strauss");
  EXPECT_EQ(FoldText("ĳssel"), "ijssel");
  EXPECT_EQ(FoldText("O'Neill"), "o neill");
  EXPECT_EQ(FoldText(""), "");
  // Not UTF-8: read as Latin-1 ("Müller" from an old export).
  EXPECT_EQ(FoldText("M\xfcller"), "muller");
}

// FoldText answers ASCII text without ICU; over every ASCII character, alone and in
// random strings, it must answer exactly as the ICU path does.
TEST(NormalizeTest, AsciiShortcutAnswersAsIcuDoes) {
  for (int c = 0; c < 0x80; ++c) {
    const std::string one = {'a', static_cast<char>(c), 'b'};
    ASSERT_EQ(FoldText(one), internal::FoldTextWithIcu(one)) << "character " << c;
  }
  std::mt19937 rng(20261207);
  for (int i = 0; i < 5000; ++i) {
    std::string text(rng() % 24, ' ');
    for (char& c : text) c = static_cast<char>(rng() % 0x80);
    ASSERT_EQ(FoldText(text), internal::FoldTextWithIcu(text)) << absl::CEscape(text);
  }
}

TEST(NormalizeTest, EmailIsTrimmedAndLowerCased) {
  EXPECT_THAT(NormalizeEmail("  Jan.Jansen@Example.NL "), IsOkAndHolds(std::string("jan.jansen@example.nl")));
  for (const char* bad : {"jan", "jan@", "@example.nl", "jan@example", "jan@@example.nl", "jan jansen@example.nl"}) {
    EXPECT_THAT(NormalizeEmail(bad), StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
  }
}

TEST(NormalizeTest, DutchPhoneNumbersInEveryWritingBecomeOneE164) {
  for (const char* written : {"06-12345678", "06 1234 5678", "+31 6 1234 5678", "0031612345678",
                              "+31(0)612345678", "0612345678"}) {
    EXPECT_THAT(NormalizePhone(written), IsOkAndHolds(std::string("+31612345678"))) << written;
  }
  EXPECT_THAT(NormalizePhone("020-1234567"), IsOkAndHolds(std::string("+31201234567")));
  EXPECT_THAT(NormalizePhone("+32 470 12 34 56"), IsOkAndHolds(std::string("+32470123456")));
  // Without a country code the default region decides: Brussels, not Utrecht.
  EXPECT_THAT(NormalizePhone("02 123 45 67", "BE"), IsOkAndHolds(std::string("+3221234567")));
  EXPECT_THAT(NormalizePhone("not a number"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(NormalizePhone("12"), StatusIs(absl::StatusCode::kInvalidArgument));
}

// NormalizePhone answers the usual Dutch writings without libphonenumber; over many
// numbers, writings and separators it must answer exactly as libphonenumber does.
TEST(NormalizeTest, DutchShortcutAnswersAsLibphonenumberDoes) {
  std::mt19937 rng(20261204);
  auto digit = [&](int lo = 0) { return static_cast<char>('0' + lo + static_cast<int>(rng() % (10 - lo))); };
  const std::string separators = " -./()";
  int compared = 0, shortcut_ok = 0;
  for (int i = 0; i < 20000; ++i) {
    // A national number of 7 to 11 digits, mostly 9, with any leading digit.
    const int length = i % 5 == 0 ? 7 + static_cast<int>(rng() % 5) : 9;
    std::string national(1, digit(i % 10 == 0 ? 0 : 1));
    while (static_cast<int>(national.size()) < length) national.push_back(digit());
    static const char* kPrefixes[] = {"0", "+31", "0031", "+31 (0)", "+31", "+32", "00", "", "031", "+"};
    std::string written = std::string(kPrefixes[rng() % 10]) + national;
    // Separators anywhere, sometimes doubled, sometimes at the ends.
    for (int k = static_cast<int>(rng() % 5); k > 0; --k) {
      const size_t at = rng() % (written.size() + 1);
      written.insert(at, std::string(1 + rng() % 2, separators[rng() % separators.size()]));
    }
    if (rng() % 50 == 0) written.push_back('x');
    for (const char* region : {"NL", "BE"}) {
      auto fast = NormalizePhone(written, region);
      auto slow = internal::NormalizePhoneWithLibphonenumber(written, region);
      ASSERT_EQ(fast.ok(), slow.ok()) << "'" << written << "' in " << region;
      if (fast.ok()) {
        ASSERT_EQ(*fast, *slow) << "'" << written << "' in " << region;
        ++shortcut_ok;
      }
      ++compared;
    }
  }
  // Most writings are numbers, so the comparison is of answers, not only of refusals.
  EXPECT_GT(shortcut_ok, compared / 3);
}

TEST(NormalizeTest, DutchFamilyNamesLoseTheirParticle) {
  auto split = [](const char* raw) {
    FamilyName f = SplitFamilyName(raw);
    return f.prefix + "|" + f.name;
  };
  EXPECT_EQ(split("van der Berg"), "van der|berg");
  EXPECT_EQ(split("Van Der Berg"), "van der|berg");
  EXPECT_EQ(split("Berg, van der"), "van der|berg");
  EXPECT_EQ(split("de Vries"), "de|vries");
  EXPECT_EQ(split("'t Hart"), "t|hart");
  EXPECT_EQ(split("in 't Veld"), "in t|veld");
  EXPECT_EQ(split("Jansen"), "|jansen");
  EXPECT_EQ(split("Van"), "|van");  // only a particle: it is the name
  EXPECT_EQ(split("Vandenberg"), "|vandenberg");
}

TEST(NormalizeTest, PostcodesAndHouseNumbers) {
  EXPECT_THAT(NormalizePostcode("1234 ab"), IsOkAndHolds(std::string("1234AB")));
  EXPECT_THAT(NormalizePostcode("1234-AB"), IsOkAndHolds(std::string("1234AB")));
  for (const char* bad : {"0123AB", "1234 A", "12345", "1234SS", "AB1234"}) {
    EXPECT_THAT(NormalizePostcode(bad), StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
  }
  auto house = [](const char* raw) {
    auto h = ParseHouseNumber(raw);
    return h.ok() ? std::to_string(h->number) + "|" + h->addition : std::string("error");
  };
  EXPECT_EQ(house("12"), "12|");
  EXPECT_EQ(house("12a"), "12|A");
  EXPECT_EQ(house("12-A"), "12|A");
  EXPECT_EQ(house("12 bis"), "12|BIS");
  EXPECT_EQ(house("12-2"), "12|2");
  EXPECT_EQ(house(" 7 hs "), "7|HS");
  EXPECT_EQ(house("a12"), "error");
  EXPECT_EQ(house(""), "error");
}

TEST(NormalizeTest, DatesInTheUsualWritings) {
  for (const char* written : {"1980-04-09", "19800409", "09-04-1980", "9-4-1980", "09/04/1980", "9.4.1980"}) {
    EXPECT_THAT(NormalizeDate(written), IsOkAndHolds(std::string("1980-04-09"))) << written;
  }
  for (const char* bad : {"1980-02-30", "31-31-1980", "1880-01-01", "yesterday", ""}) {
    EXPECT_THAT(NormalizeDate(bad), StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
  }
}

}  // namespace
}  // namespace cdp::ingest
