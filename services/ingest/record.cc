#include "services/ingest/record.h"

#include <set>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "services/ingest/normalize.h"

namespace cdp::ingest {
namespace {

const std::set<std::string>& Attributes() {
  static const auto* names = new std::set<std::string>{
      "customer_number", "given_name", "initials", "family_name_prefix", "family_name",
      "full_name", "date_of_birth", "email", "phone_mobile", "phone_home", "street",
      "house_number", "postcode", "city", "country", "loyalty_tier", "language_preference",
      "channel_preferences", "social_handles", "payment_method_summary"};
  return *names;
}

absl::Status Invalid(const std::string& name, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("attributes.", name, ": ", why));
}

// Initials as folded letters separated by spaces: "J.P." -> "j p".
std::string FoldInitials(const std::string& raw) {
  std::string folded = FoldText(raw);
  std::string out;
  for (char c : folded) {
    if (c == ' ') continue;
    if (!out.empty()) out.push_back(' ');
    out.push_back(c);
  }
  return out;
}

bool IsParticleWord(const std::string& w) {
  static const auto* words = new std::set<std::string>{"van", "de", "der", "den", "het", "t",
                                                       "te", "ten", "ter", "in", "op", "uit",
                                                       "aan", "bij"};
  return words->count(w) > 0;
}

// "Jansen, Jan" | "Jan van der Berg" | "J.P. van der Berg" -> given, family (with particle).
void SplitFullName(const std::string& raw, std::string* given, std::string* family) {
  if (size_t comma = raw.find(','); comma != std::string::npos) {
    // "Berg, Jan van der": the particle comes after the given names.
    std::string family_part(absl::StripAsciiWhitespace(raw.substr(0, comma)));
    std::vector<std::string> words = absl::StrSplit(raw.substr(comma + 1), ' ', absl::SkipEmpty());
    size_t particle = words.size();
    for (size_t i = 1; i < words.size(); ++i) {
      if (IsParticleWord(FoldText(words[i]))) {
        particle = i;
        break;
      }
    }
    *given = absl::StrJoin(words.begin(), words.begin() + static_cast<long>(particle), " ");
    const std::string prefix = absl::StrJoin(words.begin() + static_cast<long>(particle), words.end(), " ");
    *family = prefix.empty() ? family_part : absl::StrCat(prefix, " ", family_part);
    return;
  }
  std::vector<std::string> words = absl::StrSplit(raw, ' ', absl::SkipEmpty());
  if (words.size() <= 1) {
    *family = raw;
    return;
  }
  // The family name starts at the first particle after the first word, else at the last word.
  size_t start = words.size() - 1;
  for (size_t i = 1; i < words.size(); ++i) {
    if (IsParticleWord(FoldText(words[i]))) {
      start = i;
      break;
    }
  }
  *given = absl::StrJoin(words.begin(), words.begin() + static_cast<long>(start), " ");
  *family = absl::StrJoin(words.begin() + static_cast<long>(start), words.end(), " ");
}

}  // namespace

bool IsKnownAttribute(const std::string& name) { return Attributes().count(name) > 0; }

resolution::PersonRecord PersonFromNormal(const AttributeMap& normal) {
  auto get = [&](const char* name) {
    auto it = normal.find(name);
    return it == normal.end() ? std::string() : it->second;
  };
  resolution::PersonRecord p;
  p.given = get("given_name");
  p.family = get("family_name");
  p.dob = get("date_of_birth");
  p.email = get("email");
  p.phone = get("phone_mobile");
  p.postcode = get("postcode");
  p.house_number = get("house_number");
  p.street = get("street");
  p.city = get("city");
  p.strong_id = get("customer_number");
  return p;
}

namespace {

// The checks on names and sizes, and the trimmed values (NormalizedRecord::values), for a
// map of any kind: the attribute reported is the first bad one by name, in whatever order
// the map hands them out.
template <typename Map>
absl::Status TakeValues(const Map& attributes, const NormalizeOptions& options, NormalizedRecord& out) {
  if (attributes.size() > options.max_attributes) {
    return absl::InvalidArgumentError(
        absl::StrCat("attributes: at most ", options.max_attributes, " per record"));
  }
  const std::string* bad = nullptr;
  absl::Status why;
  for (const auto& [name, raw] : attributes) {
    if (bad != nullptr && *bad < name) continue;
    if (!IsKnownAttribute(name)) {
      bad = &name;
      why = Invalid(name, "unknown attribute");
    } else if (raw.size() > options.max_value_bytes) {
      bad = &name;
      why = Invalid(name, absl::StrCat("longer than ", options.max_value_bytes, " bytes"));
    } else if (bad == nullptr) {
      std::string value(absl::StripAsciiWhitespace(raw));
      if (!value.empty()) out.values[name] = std::move(value);
    }
  }
  return why;
}

// The rest of NormalizeAttributes, from out.values.
absl::StatusOr<NormalizedRecord> NormalizeValues(NormalizedRecord out, const NormalizeOptions& options) {
  auto& p = out.person;
  auto& normal = out.normal;
  // The trimmed value of an attribute, or null.
  auto get = [&v = std::as_const(out.values)](std::string_view name) -> const std::string* {
    auto it = v.find(name);
    return it == v.end() ? nullptr : &it->second;
  };

  std::string given, family;
  if (const std::string* g = get("given_name")) given = *g;
  if (const std::string* f = get("family_name")) family = *f;
  if (const std::string* full = get("full_name")) {
    std::string g, f;
    SplitFullName(*full, &g, &f);
    if (given.empty()) given = std::move(g);
    if (family.empty()) family = std::move(f);
  }
  // Given names written as initials ("J.P.") count as initials.
  std::string folded_given = FoldText(given);
  const bool only_initials = !given.empty() && given.find('.') != std::string::npos &&
                             folded_given.size() <= 5;
  if (only_initials) {
    p.given = FoldInitials(given);
  } else {
    p.given = std::move(folded_given);
  }
  if (const std::string* initials = get("initials"); p.given.empty() && initials != nullptr) {
    p.given = FoldInitials(*initials);
  }
  if (!family.empty()) {
    const std::string* prefix = get("family_name_prefix");
    FamilyName split = SplitFamilyName(prefix != nullptr ? absl::StrCat(*prefix, " ", family) : family);
    p.family = split.name;
    normal["family_name"] = std::move(split.name);
    if (!split.prefix.empty()) normal["family_name_prefix"] = std::move(split.prefix);
  }
  if (!p.given.empty()) normal["given_name"] = p.given;
  if (const std::string* dob = get("date_of_birth")) {
    auto d = NormalizeDate(*dob);
    if (!d.ok()) return Invalid("date_of_birth", d.status().message());
    p.dob = normal["date_of_birth"] = *d;
  }
  if (const std::string* email = get("email")) {
    auto e = NormalizeEmail(*email);
    if (!e.ok()) return Invalid("email", e.status().message());
    p.email = normal["email"] = *e;
  }
  for (const char* phone : {"phone_mobile", "phone_home"}) {
    const std::string* written = get(phone);
    if (written == nullptr) continue;
    auto n = NormalizePhone(*written, options.default_region);
    if (!n.ok()) return Invalid(phone, n.status().message());
    normal[phone] = *n;
    // Matching uses the mobile number only: a landline belongs to the household.
    if (std::string_view(phone) == "phone_mobile") p.phone = *n;
  }
  if (const std::string* postcode = get("postcode")) {
    auto pc = NormalizePostcode(*postcode);
    if (!pc.ok()) return Invalid("postcode", pc.status().message());
    p.postcode = normal["postcode"] = *pc;
  }
  if (const std::string* house = get("house_number")) {
    auto h = ParseHouseNumber(*house);
    if (!h.ok()) return Invalid("house_number", h.status().message());
    p.house_number = normal["house_number"] = absl::StrCat(h->number, h->addition);
  }
  if (const std::string* street = get("street")) p.street = normal["street"] = FoldText(*street);
  if (const std::string* city = get("city")) p.city = normal["city"] = FoldText(*city);
  if (const std::string* number = get("customer_number")) {
    p.strong_id = normal["customer_number"] = absl::AsciiStrToUpper(*number);
  }
  return out;
}

template <typename Map>
absl::StatusOr<NormalizedRecord> NormalizeMap(const Map& attributes, const NormalizeOptions& options) {
  NormalizedRecord out;
  if (absl::Status s = TakeValues(attributes, options, out); !s.ok()) return s;
  return NormalizeValues(std::move(out), options);
}

}  // namespace

absl::StatusOr<NormalizedRecord> NormalizeAttributes(
    const std::map<std::string, std::string>& attributes, const NormalizeOptions& options) {
  return NormalizeMap(attributes, options);
}

absl::StatusOr<NormalizedRecord> NormalizeAttributes(
    const google::protobuf::Map<std::string, std::string>& attributes, const NormalizeOptions& options) {
  return NormalizeMap(attributes, options);
}

}  // namespace cdp::ingest
