// Normalised forms of what source systems send, for matching. Originals are always kept
// beside them; these forms are only compared, never shown.
//
// Every function is pure and thread-safe. Those returning a status answer InvalidArgument
// with a short reason ("not an e-mail address") that never repeats the value, so callers
// can put it in a rejection without leaking personal data into logs.
#ifndef CDP_SERVICES_INGEST_NORMALIZE_H_
#define CDP_SERVICES_INGEST_NORMALIZE_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace cdp::ingest {

// Unicode folding for names, streets and cities: compatibility decomposition, accents
// dropped, case folded, letters without a decomposition spelled out (ß -> ss, ø -> o,
// æ -> ae, ĳ -> ij), every run of anything but letters and digits made one space, trimmed.
// "  Anne-Marie  Çelik " -> "anne marie celik". Invalid UTF-8 is folded as Latin-1.
std::string FoldText(std::string_view utf8);

// Trimmed and lower case; must be local@domain with a dot in the domain.
absl::StatusOr<std::string> NormalizeEmail(std::string_view raw);

// E.164 ("+31612345678") through libphonenumber, reading numbers without a country code as
// numbers of `default_region` (ISO 3166 alpha-2). "06-12345678", "+31 6 1234 5678" and
// "0031612345678" are the same number.
absl::StatusOr<std::string> NormalizePhone(std::string_view raw,
                                           std::string_view default_region = "NL");
// Whether libphonenumber knows `region` ("NL", "BE", "DE", ...).
bool IsPhoneRegion(std::string_view region);

namespace internal {
// FoldText without its shortcut for ASCII text; for tests that compare the two.
std::string FoldTextWithIcu(std::string_view utf8);
// NormalizePhone without its shortcut for the usual Dutch writings; for tests that
// compare the two.
absl::StatusOr<std::string> NormalizePhoneWithLibphonenumber(std::string_view raw,
                                                             std::string_view default_region);
}  // namespace internal

// A Dutch family name split into its particle ("tussenvoegsel") and the rest, both folded:
// "van der Berg", "Van Der Berg" and "Berg, van der" -> {"van der", "berg"};
// "'t Hart" -> {"t", "hart"}. A name that is only a particle is kept as the name.
struct FamilyName {
  std::string prefix;
  std::string name;
};
FamilyName SplitFamilyName(std::string_view raw);

// Dutch postcode "1234AB" from "1234 ab", "1234-AB", ...; InvalidArgument otherwise.
absl::StatusOr<std::string> NormalizePostcode(std::string_view raw);

// A house number and its addition: "12" -> {12, ""}, "12a", "12-A", "12 A" -> {12, "A"},
// "12 bis" -> {12, "BIS"}, "12-2" -> {12, "2"}, "12 hs" -> {12, "HS"}.
struct HouseNumber {
  int number = 0;
  std::string addition;
};
absl::StatusOr<HouseNumber> ParseHouseNumber(std::string_view raw);

// A date of birth as "YYYY-MM-DD" from "YYYY-MM-DD", "YYYYMMDD", "DD-MM-YYYY",
// "DD/MM/YYYY" or "D-M-YYYY"; the date must exist and lie between 1900 and 2100.
absl::StatusOr<std::string> NormalizeDate(std::string_view raw);

}  // namespace cdp::ingest

#endif  // CDP_SERVICES_INGEST_NORMALIZE_H_
