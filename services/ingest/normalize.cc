#include "services/ingest/normalize.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <array>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "phonenumbers/phonenumberutil.h"

namespace cdp::ingest {
namespace {

absl::string_view View(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// Letters that compatibility decomposition leaves alone.
const char* Spelled(UChar32 c) {
  switch (c) {
    case 0x00DF: return "ss";  // ß
    case 0x00E6: case 0x00C6: return "ae";
    case 0x00F8: case 0x00D8: return "o";
    case 0x0153: case 0x0152: return "oe";
    case 0x0142: case 0x0141: return "l";
    case 0x0111: case 0x0110: return "d";
    case 0x0131: return "i";
    case 0x00F0: case 0x00D0: return "d";
    case 0x00FE: case 0x00DE: return "th";
    default: return nullptr;
  }
}

// The UTF-8 text, or its Latin-1 reading when it is not valid UTF-8.
icu::UnicodeString Decode(std::string_view s) {
  int32_t i = 0;
  const int32_t n = static_cast<int32_t>(s.size());
  while (i < n) {
    UChar32 c;
    U8_NEXT(reinterpret_cast<const uint8_t*>(s.data()), i, n, c);
    if (c < 0) return icu::UnicodeString(s.data(), n, "ISO-8859-1");
  }
  return icu::UnicodeString::fromUTF8(icu::StringPiece(s.data(), n));
}

}  // namespace

std::string FoldText(std::string_view utf8) {
  // ASCII, as most names and addresses are: compatibility decomposition leaves it as it
  // is, case folding lowers A-Z, none of it is a mark or spelled out, and ICU's letters and
  // digits among it are ASCII's. So the loop below, without ICU and its UTF-16 round trip.
  if (std::all_of(utf8.begin(), utf8.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; })) {
    std::string out;
    out.reserve(utf8.size());
    bool space = false;
    for (char c : utf8) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c))) {
        space = true;
        continue;
      }
      if (space && !out.empty()) out.push_back(' ');
      space = false;
      out.push_back(absl::ascii_tolower(static_cast<unsigned char>(c)));
    }
    return out;
  }
  return internal::FoldTextWithIcu(utf8);
}

std::string internal::FoldTextWithIcu(std::string_view utf8) {
  UErrorCode err = U_ZERO_ERROR;
  const icu::Normalizer2* nfkd = icu::Normalizer2::getNFKDInstance(err);
  icu::UnicodeString decomposed = nfkd->normalize(Decode(utf8), err);
  if (U_FAILURE(err)) decomposed = Decode(utf8);
  decomposed.foldCase();
  std::string out;
  out.reserve(utf8.size());
  bool space = false;
  for (int32_t i = 0; i < decomposed.length();) {
    UChar32 c = decomposed.char32At(i);
    i += U16_LENGTH(c);
    if (u_charType(c) == U_NON_SPACING_MARK) continue;
    if (const char* s = Spelled(c)) {
      if (space && !out.empty()) out.push_back(' ');
      space = false;
      out.append(s);
    } else if (u_isalnum(c)) {
      if (space && !out.empty()) out.push_back(' ');
      space = false;
      icu::UnicodeString one(c);
      one.toUTF8String(out);
    } else {
      space = true;
    }
  }
  return out;
}

absl::StatusOr<std::string> NormalizeEmail(std::string_view raw) {
  std::string e = absl::AsciiStrToLower(absl::StripAsciiWhitespace(View(raw)));
  const size_t at = e.find('@');
  if (at == std::string::npos || at == 0 || e.find('@', at + 1) != std::string::npos ||
      e.find('.', at) == std::string::npos || e.back() == '.' || e[at + 1] == '.' ||
      e.find_first_of(" \t,;<>()[]\\\"") != std::string::npos || e.size() > 254) {
    return absl::InvalidArgumentError("not an e-mail address");
  }
  return e;
}

namespace {

// Dutch numbers in the ways people write them ("06-12345678", "+31 6 1234 5678",
// "0031 20 123 4567", "(020) 123 45 67"): separators dropped, a nine-digit national number
// after +31, 0031 or the trunk 0. libphonenumber answers these through a dozen regular
// expressions; this answers them the same way (tests/ingest/normalize_test.cc compares
// the two) at a fraction of the cost. Anything else is left to libphonenumber.
std::optional<std::string> DutchNumber(std::string_view raw, std::string_view default_region) {
  std::string digits;
  bool plus = false;
  for (char c : raw) {
    if (c >= '0' && c <= '9') {
      digits.push_back(c);
    } else if (c == '+' && digits.empty() && !plus) {
      plus = true;
    } else if (c != ' ' && c != '-' && c != '.' && c != '(' && c != ')' && c != '/') {
      return std::nullopt;
    }
  }
  const bool dutch_region = default_region == "NL";
  std::string_view national;
  if (plus && digits.size() == 11 && digits.compare(0, 2, "31") == 0) {
    national = std::string_view(digits).substr(2);
  } else if (!plus && dutch_region && digits.size() == 13 && digits.compare(0, 4, "0031") == 0) {
    national = std::string_view(digits).substr(4);
  } else if (!plus && dutch_region && digits.size() == 10 && digits[0] == '0') {
    national = std::string_view(digits).substr(1);
  } else {
    return std::nullopt;
  }
  if (national[0] == '0') return std::nullopt;  // "+31 (0)6 ...": libphonenumber's case
  return absl::StrCat("+31", absl::string_view(national.data(), national.size()));
}

}  // namespace

absl::StatusOr<std::string> NormalizePhone(std::string_view raw, std::string_view default_region) {
  if (std::optional<std::string> dutch = DutchNumber(raw, default_region)) return *std::move(dutch);
  return internal::NormalizePhoneWithLibphonenumber(raw, default_region);
}

namespace internal {

absl::StatusOr<std::string> NormalizePhoneWithLibphonenumber(std::string_view raw,
                                                             std::string_view default_region) {
  using i18n::phonenumbers::PhoneNumber;
  using i18n::phonenumbers::PhoneNumberUtil;
  const PhoneNumberUtil* util = PhoneNumberUtil::GetInstance();
  PhoneNumber number;
  if (util->Parse(std::string(raw), std::string(default_region), &number) !=
          PhoneNumberUtil::NO_PARSING_ERROR ||
      !util->IsPossibleNumber(number)) {
    return absl::InvalidArgumentError("not a phone number");
  }
  std::string e164;
  util->Format(number, PhoneNumberUtil::E164, &e164);
  return e164;
}

}  // namespace internal

bool IsPhoneRegion(std::string_view region) {
  return i18n::phonenumbers::PhoneNumberUtil::GetInstance()->GetCountryCodeForRegion(std::string(region)) != 0;
}

FamilyName SplitFamilyName(std::string_view raw) {
  // Longest particles first, as folded words.
  static const std::array<const char*, 24> kParticles = {
      "van der", "van den", "van de", "van het", "van t", "in t", "in het", "op de", "op den",
      "op t", "uit de", "uit den", "aan de", "aan den", "bij de", "van", "de", "der", "den",
      "het", "t", "te", "ten", "ter"};
  std::string text(raw);
  // "Berg, van der": the particle written after a comma.
  std::string after_comma;
  if (size_t comma = text.find(','); comma != std::string::npos) {
    after_comma = FoldText(std::string_view(text).substr(comma + 1));
    text = text.substr(0, comma);
  }
  std::string folded = FoldText(text);
  FamilyName out;
  if (!after_comma.empty()) {
    out.prefix = after_comma;
    out.name = folded;
    return out;
  }
  for (const char* p : kParticles) {
    const std::string particle = p;
    if (folded.size() > particle.size() + 1 && folded.compare(0, particle.size(), particle) == 0 &&
        folded[particle.size()] == ' ') {
      out.prefix = particle;
      out.name = folded.substr(particle.size() + 1);
      return out;
    }
  }
  out.name = folded;
  return out;
}

absl::StatusOr<std::string> NormalizePostcode(std::string_view raw) {
  std::string p;
  for (char c : raw) {
    if (absl::ascii_isalnum(static_cast<unsigned char>(c))) p.push_back(absl::ascii_toupper(static_cast<unsigned char>(c)));
    else if (c != ' ' && c != '-' && c != '\t') return absl::InvalidArgumentError("not a Dutch postcode");
  }
  // 1234 AB: four digits, the first not 0, and two letters (never SA, SD or SS).
  const bool shape = p.size() == 6 && p[0] >= '1' && p[0] <= '9' &&
                     std::all_of(p.begin() + 1, p.begin() + 4, [](char c) { return c >= '0' && c <= '9'; }) &&
                     std::all_of(p.begin() + 4, p.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
  if (!shape || p.substr(4) == "SA" || p.substr(4) == "SD" || p.substr(4) == "SS") {
    return absl::InvalidArgumentError("not a Dutch postcode");
  }
  return p;
}

absl::StatusOr<HouseNumber> ParseHouseNumber(std::string_view raw) {
  std::string s(absl::StripAsciiWhitespace(View(raw)));
  size_t digits = 0;
  while (digits < s.size() && absl::ascii_isdigit(static_cast<unsigned char>(s[digits]))) ++digits;
  HouseNumber h;
  if (digits == 0 || digits > 5 || !absl::SimpleAtoi(s.substr(0, digits), &h.number) ||
      h.number <= 0) {
    return absl::InvalidArgumentError("not a house number");
  }
  std::string rest = s.substr(digits);
  std::string addition;
  for (char c : rest) {
    if (absl::ascii_isalnum(static_cast<unsigned char>(c))) addition.push_back(absl::ascii_toupper(static_cast<unsigned char>(c)));
    else if (c != ' ' && c != '-' && c != '/') return absl::InvalidArgumentError("not a house number");
  }
  if (addition.size() > 6) return absl::InvalidArgumentError("not a house number");
  h.addition = addition;
  return h;
}

absl::StatusOr<std::string> NormalizeDate(std::string_view raw) {
  std::string s(absl::StripAsciiWhitespace(View(raw)));
  int y = 0, m = 0, d = 0;
  std::vector<std::string> parts = absl::StrSplit(s, absl::ByAnyChar("-/."));
  bool ok = false;
  if (parts.size() == 1 && s.size() == 8) {
    ok = absl::SimpleAtoi(s.substr(0, 4), &y) && absl::SimpleAtoi(s.substr(4, 2), &m) &&
         absl::SimpleAtoi(s.substr(6, 2), &d);
  } else if (parts.size() == 3 && parts[0].size() == 4) {
    ok = absl::SimpleAtoi(parts[0], &y) && absl::SimpleAtoi(parts[1], &m) &&
         absl::SimpleAtoi(parts[2], &d);
  } else if (parts.size() == 3 && parts[2].size() == 4) {
    ok = absl::SimpleAtoi(parts[2], &y) && absl::SimpleAtoi(parts[1], &m) &&
         absl::SimpleAtoi(parts[0], &d);
  }
  if (!ok || y < 1900 || y > 2100) return absl::InvalidArgumentError("not a date (YYYY-MM-DD)");
  absl::CivilDay day(y, m, d);
  if (day.year() != y || day.month() != m || day.day() != d) {
    return absl::InvalidArgumentError("not a date (YYYY-MM-DD)");
  }
  return absl::StrFormat("%04d-%02d-%02d", y, m, d);
}

}  // namespace cdp::ingest
