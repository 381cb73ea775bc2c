#include "services/ingest/resolution/resolver.h"

#include <algorithm>
#include <array>
#include <map>
#include <cmath>
#include <numeric>
#include <optional>
#include <random>
#include <string_view>
#include <tuple>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/ingest/resolution/similarity.h"

namespace cdp::resolution {
namespace {

// The first word of a name ("jan" of "jan pieter"), without copying.
std::string_view FirstToken(const std::string& s) { return std::string_view(s).substr(0, s.find(' ')); }

bool FirstTokenEqual(const std::string& a, const std::string& b) { return FirstToken(a) == FirstToken(b); }

std::string Initials(const std::string& s) {
  std::string out;
  bool start = true;
  for (char c : s) {
    if (c == ' ') start = true;
    else if (start) { out.push_back(c); start = false; }
  }
  return out;
}

// One is a lone initial ("j" or "j p") of the other.
bool InitialOf(const std::string& a, const std::string& b) {
  // Initials are single letters: "j", "j p".
  auto only_initials = [](const std::string& s) {
    bool any = false;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == ' ') continue;
      if (i + 1 < s.size() && s[i + 1] != ' ') return false;
      any = true;
    }
    return any;
  };
  const bool a_short = only_initials(a), b_short = only_initials(b);
  if (a_short == b_short) return false;
  // "j p" against "jan" or "jan pieter": the initials agree as far as both go.
  const std::string x = Initials(a), y = Initials(b);
  const size_t n = std::min(x.size(), y.size());
  return n > 0 && x.compare(0, n, y, 0, n) == 0;
}

// How many given names two compatible given names vouch for: "m l" and "marloes lieke"
// two, "m" and "marloes" (or "jan" and "jan") one.
size_t AgreeingInitials(const std::string& a, const std::string& b) {
  const std::string x = Initials(a), y = Initials(b);
  size_t n = 0;
  while (n < x.size() && n < y.size() && x[n] == y[n]) ++n;
  return n;
}

// 0 equal; 1 a typo apart (one edit, or Jaro-Winkler 0.92 and up); 2 compatible (one is
// the other's initials, or the first names agree); 3 different. Merely similar names
// ("Anna", "Nina") are different: households are full of them.
uint8_t NameLevel(const std::string& a, const std::string& b) {
  if (a == b) return 0;
  // One edit is a typo in a name, not in an initial ("f" and "s" are two people).
  if ((std::min(a.size(), b.size()) >= 4 && WithinOneEdit(a, b)) ||
      JaroWinkler(a, b) >= 0.92) {
    return 1;
  }
  // "Jan" and "Jan Pieter": the first given name written in full on both.
  if (FirstTokenEqual(a, b) && a.find(' ') != 1 && b.find(' ') != 1 && a.size() > 1 &&
      b.size() > 1) {
    return 1;
  }
  if (FirstTokenEqual(a, b) || InitialOf(a, b)) return 2;
  return 3;
}

// Whether one record's given name sits in the other's family-name field ("Holly" against
// "Thomson, Holly").
bool SwappedNames(const PersonRecord& a, const PersonRecord& b) {
  return (!b.family.empty() && JaroWinkler(a.given, b.family) >= 0.92) ||
         (!a.family.empty() && JaroWinkler(b.given, a.family) >= 0.92);
}

// One given name with its letters scrambled ("oievr" for "oliver", "icsac" for "isaac"):
// the same first letter, then nearly the same letters in another order, of nearly the
// same length. Two people's names rarely share four letters in five ("lars" and "lisa"
// share three in four); names made of the same letters begin differently ("ilse" and
// "lies", twins a scramble would join).
bool ScrambledName(const std::string& a, const std::string& b) {
  if (std::min(a.size(), b.size()) < 4 || std::max(a.size(), b.size()) - std::min(a.size(), b.size()) > 1 ||
      a[0] != b[0]) {
    return false;
  }
  std::array<int, 256> count{};
  for (unsigned char ch : a) ++count[ch];
  size_t common = 0;
  for (unsigned char ch : b) {
    if (count[ch] > 0) {
      --count[ch];
      ++common;
    }
  }
  return 2 * common * 10 >= 8 * (a.size() + b.size());
}

// Given names that are two people's: different (NameLevel 3), not one long name typed
// twice badly ("george", "gergge": two edits apart) or with a middle name left out, and
// not the other record's family name (given and family name the other way round).
bool GivenNamesOfTwoPeople(const PersonRecord& a, const PersonRecord& b) {
  if (NameLevel(a.given, b.given) != 3) return false;
  if (std::min(a.given.size(), b.given.size()) >= 5 && BoundedLevenshtein(a.given, b.given, 2) <= 2) return false;
  // "jnsper" and "jasper dennis": the first given names a typo apart, a second one left out.
  const std::string_view first_a = FirstToken(a.given), first_b = FirstToken(b.given);
  if ((first_a.size() != a.given.size() || first_b.size() != b.given.size()) &&
      NameLevel(std::string(first_a), std::string(first_b)) <= 1) {
    return false;
  }
  return !SwappedNames(a, b);
}

// Days since 1970-01-01 of "YYYY-MM-DD" or "YYYYMMDD"; nullopt for anything else.
std::optional<int64_t> DayNumber(const std::string& s) {
  int y = 0, m = 0, d = 0;
  if (s.size() == 10 && s[4] == '-' && s[7] == '-') {
    if (!absl::SimpleAtoi(s.substr(0, 4), &y) || !absl::SimpleAtoi(s.substr(5, 2), &m) ||
        !absl::SimpleAtoi(s.substr(8, 2), &d)) {
      return std::nullopt;
    }
  } else if (s.size() == 8) {
    if (!absl::SimpleAtoi(s.substr(0, 4), &y) || !absl::SimpleAtoi(s.substr(4, 2), &m) ||
        !absl::SimpleAtoi(s.substr(6, 2), &d)) {
      return std::nullopt;
    }
  } else {
    return std::nullopt;
  }
  if (m < 1 || m > 12 || d < 1 || d > 31) return std::nullopt;
  // Howard Hinnant's days_from_civil.
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// Whether two dates of birth are a generation or more apart (or unreadable): a parent and
// a child, never one person's date written wrong.
bool GenerationApart(const std::string& a, const std::string& b) {
  constexpr int64_t kGenerationDays = 15 * 365;
  const auto day_a = DayNumber(a), day_b = DayNumber(b);
  return !day_a || !day_b || std::abs(*day_a - *day_b) >= kGenerationDays;
}

// Typos between two strings of one length: each differing character, or two neighbours
// swapped, is one. `first` gets the position of the first typo.
int Typos(const std::string& a, const std::string& b, size_t* first = nullptr) {
  int typos = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] == b[i]) continue;
    if (typos++ == 0 && first != nullptr) *first = i;
    if (i + 1 < a.size() && a[i + 1] != b[i + 1] && a[i] == b[i + 1] && a[i + 1] == b[i]) ++i;
  }
  return typos;
}

// 0 equal; 1 one character apart, two neighbours swapped, or day and month swapped; 2 two
// characters apart with the years at most two apart (two typos; a day and a year each one
// off), or at most a month apart (a date shifted by a time zone, a day misread); 3
// different (1996 and 1969 are a parent and a child, not a typo).
uint8_t DateLevel(const std::string& a, const std::string& b) {
  if (a == b) return 0;
  if (a.size() != b.size()) return 3;
  int diffs = 0;
  for (size_t i = 0; i < a.size(); ++i) diffs += a[i] != b[i];
  if (diffs == 1) return 1;
  // Two neighbours swapped is a typo too, unless it makes one valid date another a
  // generation away: 1996 and 1969 are a parent and a child.
  if (Typos(a, b) == 1 && !(DayNumber(a) && DayNumber(b) && GenerationApart(a, b))) return 1;
  // Day and month swapped: YYYY-MM-DD.
  if (a.size() == 10 && a.compare(0, 4, b, 0, 4) == 0 && a.compare(5, 2, b, 8, 2) == 0 &&
      a.compare(8, 2, b, 5, 2) == 0) {
    return 1;
  }
  int year_a = 0, year_b = 0;
  if (diffs == 2 && a.size() >= 4 && absl::SimpleAtoi(a.substr(0, 4), &year_a) &&
      absl::SimpleAtoi(b.substr(0, 4), &year_b) && std::abs(year_a - year_b) <= 2) {
    return 2;
  }
  const auto day_a = DayNumber(a), day_b = DayNumber(b);
  if (day_a && day_b && std::abs(*day_a - *day_b) <= 31) return 2;
  return 3;
}

// 0 equal; 1 one typo: a digit substituted or two neighbours swapped (of a number long
// enough that this is a typo, not a neighbour); 2 two such typos, not both among the last
// three digits (numbers handed out in order differ there: a household registered together);
// 3 different.
uint8_t NumberLevel(const std::string& a, const std::string& b) {
  if (a == b) return 0;
  if (a.size() != b.size() || a.size() < 6) return 3;
  size_t first = 0;
  const int typos = Typos(a, b, &first);
  if (typos == 1) return 1;
  if (typos == 2 && first + 3 < a.size()) return 2;
  return 3;
}

uint8_t CloseLevel(const std::string& a, const std::string& b, double close) {
  if (a == b) return 0;
  return JaroWinkler(a, b) >= close ? 1 : 3;
}

uint32_t PatternKey(const Comparison& c) {
  uint32_t key = 0;
  for (int f = 0; f < kFieldCount; ++f) key = key * 5 + (c.level[f] == kUnknown ? 4u : c.level[f]);
  return key;
}

Comparison FromPatternKey(uint32_t key) {
  Comparison c;
  for (int f = kFieldCount - 1; f >= 0; --f) {
    const uint32_t v = key % 5;
    c.level[f] = v == 4 ? kUnknown : static_cast<uint8_t>(v);
    key /= 5;
  }
  return c;
}

// Union-find over record indexes, keeping each cluster's members.
class Clusters {
 public:
  explicit Clusters(size_t n) : parent_(n), members_(n) {
    std::iota(parent_.begin(), parent_.end(), 0u);
    for (uint32_t i = 0; i < n; ++i) members_[i] = {i};
  }
  uint32_t Find(uint32_t x) {
    while (parent_[x] != x) x = parent_[x] = parent_[parent_[x]];
    return x;
  }
  const std::vector<uint32_t>& Members(uint32_t root) const { return members_[root]; }
  void Join(uint32_t ra, uint32_t rb) {
    if (members_[ra].size() < members_[rb].size()) std::swap(ra, rb);
    parent_[rb] = ra;
    members_[ra].insert(members_[ra].end(), members_[rb].begin(), members_[rb].end());
    members_[rb].clear();
    members_[rb].shrink_to_fit();
  }

 private:
  std::vector<uint32_t> parent_;
  std::vector<std::vector<uint32_t>> members_;
};

}  // namespace

const char* FieldName(int field) {
  static const char* kNames[] = {"given_name", "family_name", "date_of_birth", "email", "phone",
                                 "postcode_house", "street", "city", "strong_id", "national_id"};
  return field >= 0 && field < kFieldCount ? kNames[field] : "?";
}

Comparison Compare(const PersonRecord& a, const PersonRecord& b) {
  Comparison c;
  c.level.fill(kUnknown);
  auto both = [](const std::string& x, const std::string& y) { return !x.empty() && !y.empty(); };
  if (both(a.given, b.given)) c.level[kGiven] = NameLevel(a.given, b.given);
  if (both(a.family, b.family)) c.level[kFamily] = NameLevel(a.family, b.family);
  // Given and family name written the other way round ("Matthews, Erin" against "Erin
  // Matthe ws"): a known writing, so the names compare crosswise, not as a disagreement.
  if (c.level[kGiven] == 3 && c.level[kFamily] == 3 && a.given != a.family) {
    // Most pairs stop at the first letters: a name up to a typo starts with the same one,
    // or one shifted (a letter dropped or swapped at the start).
    auto may_be_one = [](const std::string& x, const std::string& y) {
      return x[0] == y[0] || (x.size() > 1 && x[1] == y[0]) || (y.size() > 1 && x[0] == y[1]);
    };
    const uint8_t given = may_be_one(a.given, b.family) ? NameLevel(a.given, b.family) : 3;
    const uint8_t family = given <= 1 && may_be_one(a.family, b.given) ? NameLevel(a.family, b.given) : 3;
    if (given <= 1 && family <= 1) {
      c.level[kGiven] = given;
      c.level[kFamily] = family;
    }
  }
  if (both(a.dob, b.dob)) c.level[kDob] = DateLevel(a.dob, b.dob);
  if (both(a.email, b.email)) {
    if (a.email == b.email) {
      c.level[kEmail] = 0;
    } else {
      // Only equal addresses count: mailbox names are made from names ("jan.jansen" at
      // two providers are often two Jan Jansens), so a similar one adds nothing the name
      // comparison has not said already.
      c.level[kEmail] = 3;
    }
  }
  if (both(a.phone, b.phone)) {
    c.level[kPhone] = a.phone == b.phone ? 0
                      : (a.phone.size() >= 7 && b.phone.size() >= 7 &&
                         a.phone.compare(a.phone.size() - 7, 7, b.phone, b.phone.size() - 7, 7) == 0)
                          ? 1
                          : 3;
  }
  // One comparison for the whole address: postcode, street and city say the same thing,
  // and counting them apart would let a shared home outweigh everything else.
  // 0 the same home (postcode or street, and house number); 1 the same postcode or street;
  // 2 the same city; 3 elsewhere.
  const bool same_house = both(a.house_number, b.house_number) && a.house_number == b.house_number;
  const bool same_postcode = both(a.postcode, b.postcode) && a.postcode == b.postcode;
  const bool same_city = both(a.city, b.city) && CloseLevel(a.city, b.city, 0.88) <= 1;
  // The street only counts in the same city (or where a city is missing): for a pair in two
  // cities it is not compared at all, which spares most pairs a Jaro-Winkler.
  const bool same_street = (same_city || !both(a.city, b.city)) && both(a.street, b.street) &&
                           CloseLevel(a.street, b.street, 0.88) <= 1;
  if (both(a.postcode, b.postcode) || both(a.street, b.street) || both(a.city, b.city)) {
    if ((same_postcode || same_street) && same_house) {
      c.level[kAddress] = 0;
    } else if (same_postcode || (same_street && same_city)) {
      c.level[kAddress] = 1;
    } else if (same_city) {
      c.level[kAddress] = 2;
    } else {
      c.level[kAddress] = 3;
    }
  }
  if (both(a.strong_id, b.strong_id)) {
    // Near-equal customer numbers are neighbours (a household signing up together), not
    // typos of one number: only equality counts.
    c.level[kStrongId] = a.strong_id == b.strong_id ? 0 : 3;
  }
  if (both(a.national_id, b.national_id)) c.level[kNationalId] = NumberLevel(a.national_id, b.national_id);
  return c;
}

Veto VetoOf(const PersonRecord& a, const PersonRecord& b, const Comparison& c) {
  // One national id per person: an equal one decides, and so does one typo apart
  // (checksummed ids such as the BSN cannot be one typo apart and both valid). A clearly
  // different one does not: the same name and date of birth with a mistyped number is
  // still one person, and the model weighs the disagreement.
  if (c.level[kNationalId] == 0 || c.level[kNationalId] == 1) return Veto::kNone;
  // Dates of birth a generation apart are a parent and a child, whatever number they were
  // given (two systems may number their customers alike).
  if (c.level[kDob] == 3 && GenerationApart(a.dob, b.dob)) return Veto::kTwoPeople;
  // Nearer but clearly different dates: two people, unless everything else about the
  // person agrees. The same given and family name with dates less than a generation apart
  // is one person whose date was entered wrong (siblings and twins have their own given
  // names). The model still weighs the disagreement, and different customer numbers still
  // veto below.
  const bool names_agree = c.level[kGiven] != kUnknown && c.level[kGiven] <= 1 &&
                           (c.level[kFamily] == kUnknown || c.level[kFamily] <= 1);
  if (c.level[kDob] == 3 && !names_agree) return Veto::kDoubt;
  // A national id two typos apart outweighs differently written names (it is not a
  // household's neighbouring number: see NumberLevel).
  if (c.level[kStrongId] == 0 || c.level[kNationalId] == 2) return Veto::kNone;
  // Two different customer numbers are two customers.
  if (c.level[kStrongId] == 3) return Veto::kTwoPeople;
  if (c.level[kGiven] == 3 && !ScrambledName(a.given, b.given)) {
    // Swapped names are no disagreement; a long name typed badly twice is no pair
    // evidence, but no proof of two people either (twins' names differ more).
    if (GivenNamesOfTwoPeople(a, b)) return Veto::kTwoGivenNames;
    if (!SwappedNames(a, b)) return Veto::kDoubt;
  }
  // A different family name, with no date of birth to say it is one person who married
  // or was typed very wrong: a partner or a namesake.
  if (c.level[kFamily] == 3 && !(c.level[kDob] != kUnknown && c.level[kDob] <= 1)) return Veto::kDoubt;
  return Veto::kNone;
}

bool Vetoed(const PersonRecord& a, const PersonRecord& b, const Comparison& c) {
  return VetoOf(a, b, c) != Veto::kNone;
}

bool GroupsClash(const PersonRecord& a, const PersonRecord& b,
                 const std::vector<const PersonRecord*>& group_a,
                 const std::vector<const PersonRecord*>& group_b) {
  if (!a.national_id.empty() && a.national_id == b.national_id) return false;
  size_t two_names = 0, named = 0;  // pairs whose given names say two people; can say
  for (const PersonRecord* x : group_a) {
    for (const PersonRecord* y : group_b) {
      const Comparison c = Compare(*x, *y);
      named += c.level[kGiven] != kUnknown;
      const Veto veto = VetoOf(*x, *y, c);
      if (veto == Veto::kTwoPeople) return true;
      two_names += veto == Veto::kTwoGivenNames;
    }
  }
  return two_names > 0 && two_names * 2 >= named;
}

bool PersonalEvidence(const PersonRecord& a, const PersonRecord& b, const Comparison& c,
                      const std::set<std::string>& shared) {
  auto at_most = [&](int field, uint8_t level) {
    return c.level[field] != kUnknown && c.level[field] <= level;
  };
  const bool email = at_most(kEmail, 0) && !shared.count("e" + a.email);
  const bool phone = at_most(kPhone, 0) && !shared.count("p" + a.phone);
  // The whole name, with dates of birth on both sides less than a generation apart: no
  // one else of a household (the namesake parent is a generation away, siblings and twins
  // have their own given names).
  const bool whole_name = at_most(kGiven, 1) && at_most(kFamily, 1) && c.level[kDob] != kUnknown &&
                          !GenerationApart(a.dob, b.dob);
  // A contact no one else uses counts with compatible given names (initials too), or with
  // dates of birth near enough to be one date typed wrong (a twin without a given name
  // would share a household's contact, which `shared` then lists).
  return at_most(kStrongId, 0) || at_most(kNationalId, 1) || at_most(kDob, 1) || whole_name ||
         ((at_most(kGiven, 2) || at_most(kDob, 2)) && (email || phone));
}

bool HouseholdEvidenceSuffices(const PersonRecord& a, const PersonRecord& b, size_t clusters_fitting) {
  return clusters_fitting == 1 && AgreeingInitials(a.given, b.given) >= 2;
}

namespace {

// Whether two of the records using one contact are clearly different people.
bool UsedByTwoPeople(const std::vector<const PersonRecord*>& users) {
  for (size_t i = 0; i < users.size(); ++i) {
    for (size_t j = i + 1; j < users.size(); ++j) {
      if (GivenNamesOfTwoPeople(*users[i], *users[j])) return true;
    }
  }
  return false;
}

}  // namespace

std::set<std::string> SharedContacts(const std::vector<const PersonRecord*>& records, const PersonRecord* of) {
  std::set<std::string> shared;
  if (of != nullptr) {
    // Only its two contacts (ingestion asks this for every record it joins): their users
    // in two lists, not every contact around in a map.
    std::vector<const PersonRecord*> email_users, phone_users;
    for (const PersonRecord* r : records) {
      if (r->given.empty()) continue;
      if (!of->email.empty() && r->email == of->email) email_users.push_back(r);
      if (!of->phone.empty() && r->phone == of->phone) phone_users.push_back(r);
    }
    if (UsedByTwoPeople(email_users)) shared.insert("e" + of->email);
    if (UsedByTwoPeople(phone_users)) shared.insert("p" + of->phone);
    return shared;
  }
  std::map<std::string, std::vector<const PersonRecord*>> users;
  for (const PersonRecord* r : records) {
    if (r->given.empty()) continue;
    if (!r->email.empty()) users["e" + r->email].push_back(r);
    if (!r->phone.empty()) users["p" + r->phone].push_back(r);
  }
  for (const auto& [contact, people] : users) {
    if (UsedByTwoPeople(people)) shared.insert(contact);
  }
  return shared;
}

Model::Model() {
  for (auto& row : m_) row.fill(0.25);
  for (auto& row : u_) row.fill(0.25);
  Finish();
}

void Model::Finish() {
  for (int f = 0; f < kFieldCount; ++f) {
    for (int l = 0; l < kLevels; ++l) bits_[f][l] = std::log2(std::max(m_[f][l], 1e-9) / u_[f][l]);
  }
  prior_bits_ = std::log2(prior_ / (1 - prior_));
}

double Model::Weight(const Comparison& c) const { return prior_bits_ + BayesFactorBits(c); }

double Model::BayesFactorBits(const Comparison& c) const {
  double bits = 0;
  for (int f = 0; f < kFieldCount; ++f) {
    const uint8_t l = c.level[f];
    if (l != kUnknown) bits += bits_[f][l];
  }
  return bits;
}

Model Model::Default() {
  Model m;
  // m and u per field and level (0 exact, 1 close, 2 compatible, 3 different), from
  // `cdp-bench-resolution --generated=100000 --show_model`.
  m.m_[kGiven] = {0.388, 0.188, 0.250, 0.174};     m.u_[kGiven] = {0.00566, 0.0241, 0.0154, 0.955};
  m.m_[kFamily] = {0.902, 0.0354, 0.005, 0.0625};  m.u_[kFamily] = {0.00282, 0.00127, 0.00001, 0.996};
  m.m_[kDob] = {0.793, 0.00522, 0.0126, 0.189};    m.u_[kDob] = {0.00009, 0.00142, 0.0180, 0.980};
  m.m_[kEmail] = {0.905, 0.005, 0.005, 0.095};     m.u_[kEmail] = {0.00002, 0.00001, 0.00001, 0.99997};
  m.m_[kPhone] = {0.852, 0.005, 0.005, 0.148};     m.u_[kPhone] = {0.00001, 0.00001, 0.00001, 0.99997};
  m.m_[kAddress] = {0.936, 0.005, 0.005, 0.061};   m.u_[kAddress] = {0.00003, 0.00117, 0.04, 0.961};
  m.m_[kStrongId] = {0.99, 0.0, 0.0, 0.01};        m.u_[kStrongId] = {0.00001, 0.00001, 0.00001, 0.99996};
  // The generated data has no national ids: typos are rare, other people's equal numbers rarer.
  m.m_[kNationalId] = {0.95, 0.03, 0.005, 0.015};  m.u_[kNationalId] = {0.00001, 0.00005, 0.00001, 0.99994};
  m.prior_ = 4.8e-6;
  m.Finish();
  return m;
}

double Model::Probability(const Comparison& c) const {
  return 1.0 / (1.0 + std::exp2(-Weight(c)));
}

std::string Model::Describe() const {
  std::string out = absl::StrFormat("prior (match share of candidate pairs) %.4f\n", prior_);
  absl::StrAppend(&out, absl::StrFormat("  %-16s %5s %9s %9s %8s\n", "field", "level", "m", "u", "weight"));
  for (int f = 0; f < kFieldCount; ++f) {
    for (int l = 0; l < kLevels; ++l) {
      if (l == 2 && (f == kEmail || f == kPhone || f == kStreet || f == kCity || f == kStrongId ||
                     f == kAddress)) {
        continue;  // these fields have no level 2
      }
      absl::StrAppend(&out, absl::StrFormat("  %-16s %5d %9.5f %9.5f %8.2f\n", FieldName(f), l,
                                            m_[f][l], u_[f][l], bits_[f][l]));
    }
  }
  return out;
}

namespace {

// One EM session: m (and the candidates' match share) from `pairs`, ignoring the fields in
// `blocked` (the pairs were chosen because those agree, so they say nothing there).
struct Session {
  std::array<std::array<double, kLevels>, kFieldCount> m{};
  std::array<double, kFieldCount> evidence{};  // expected matches with the field known
  double expected_matches = 0;
};

Session RunEm(const std::vector<PersonRecord>& records,
              const std::vector<std::pair<uint32_t, uint32_t>>& pairs,
              const std::array<std::array<double, kLevels>, kFieldCount>& u,
              const std::vector<int>& blocked, int iterations) {
  absl::flat_hash_map<uint32_t, double> patterns;
  for (const auto& [a, b] : pairs) {
    Comparison c = Compare(records[a], records[b]);
    for (int f : blocked) c.level[f] = kUnknown;
    patterns[PatternKey(c)] += 1;
  }
  std::vector<std::pair<Comparison, double>> counted;
  for (const auto& [key, count] : patterns) counted.emplace_back(FromPatternKey(key), count);
  Session s;
  for (auto& row : s.m) row = {0.85, 0.08, 0.04, 0.03};
  double prior = 0.3;
  for (int it = 0; it < iterations && !counted.empty(); ++it) {
    std::array<std::array<double, kLevels>, kFieldCount> m_count{};
    double matches = 0, total = 0;
    for (const auto& [c, count] : counted) {
      double w = std::log2(prior / (1 - prior));
      for (int f = 0; f < kFieldCount; ++f) {
        if (c.level[f] != kUnknown) w += std::log2(s.m[f][c.level[f]] / u[f][c.level[f]]);
      }
      const double p = 1.0 / (1.0 + std::exp2(-w));
      matches += p * count;
      total += count;
      for (int f = 0; f < kFieldCount; ++f) {
        if (c.level[f] != kUnknown) m_count[f][c.level[f]] += p * count;
      }
    }
    for (int f = 0; f < kFieldCount; ++f) {
      double sum = 0;
      for (double v : m_count[f]) sum += v + 1e-3;
      for (int l = 0; l < kLevels; ++l) s.m[f][l] = (m_count[f][l] + 1e-3) / sum;
      s.evidence[f] = sum;
    }
    prior = std::clamp(matches / total, 1e-6, 1 - 1e-6);
  }
  s.expected_matches = prior * static_cast<double>(pairs.size());
  return s;
}

// At most `limit` pairs, an even sample of them.
std::vector<std::pair<uint32_t, uint32_t>> Thin(std::vector<std::pair<uint32_t, uint32_t>> pairs,
                                                size_t limit) {
  if (pairs.size() <= limit) return pairs;
  std::vector<std::pair<uint32_t, uint32_t>> out;
  out.reserve(limit);
  const double step = static_cast<double>(pairs.size()) / static_cast<double>(limit);
  for (size_t i = 0; i < limit; ++i) out.push_back(pairs[static_cast<size_t>(static_cast<double>(i) * step)]);
  return out;
}

}  // namespace

Model Model::Train(const std::vector<PersonRecord>& records, int random_pairs, int iterations,
                   uint32_t seed) {
  Model model;
  const size_t n = records.size();
  // u: level frequencies among random pairs, nearly all of them different people.
  std::array<std::array<double, kLevels>, kFieldCount> u_count{};
  if (n >= 2) {
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<size_t> pick(0, n - 1);
    for (int i = 0; i < random_pairs; ++i) {
      size_t a = pick(rng), b = pick(rng);
      if (a == b) continue;
      Comparison c = Compare(records[a], records[b]);
      for (int f = 0; f < kFieldCount; ++f) {
        if (c.level[f] != kUnknown) u_count[f][c.level[f]] += 1;
      }
    }
  }
  for (int f = 0; f < kFieldCount; ++f) {
    double total = 0;
    for (double v : u_count[f]) total += v + 1;
    for (int l = 0; l < kLevels; ++l) model.u_[f][l] = (u_count[f][l] + 1) / total;
  }
  if (n < 2) {
    model.Finish();
    return model;
  }

  // m by EM in two sessions, as Splink trains: pairs sharing a date of birth (and an
  // initial) teach every field but the date; pairs sharing name prefixes teach the date.
  // Blocking on personal identifiers keeps households (which share address, phone and
  // e-mail) from being learnt as "the same person".
  // A third session, on customer number and e-mail, sees what the first two cannot meet:
  // records with initials only or without a date of birth.
  constexpr size_t kMaxPairs = 2000000;
  constexpr BlockLimits kTraining{.max = 400, .max_common = 400};  // thinned below instead
  int64_t skipped = 0;
  std::vector<Session> sessions = {
      RunEm(records, Thin(CandidatePairs(records, kTraining, &skipped, "dg"), kMaxPairs), model.u_,
            {kDob}, iterations),
      RunEm(records, Thin(CandidatePairs(records, kTraining, &skipped, "n"), kMaxPairs), model.u_,
            {kGiven, kFamily}, iterations),
      RunEm(records, Thin(CandidatePairs(records, kTraining, &skipped, "sei"), kMaxPairs), model.u_,
            {kStrongId, kEmail, kNationalId}, iterations)};
  const std::vector<std::vector<int>> blocked = {{kDob}, {kGiven, kFamily}, {kStrongId, kEmail, kNationalId}};
  // Each field's m: the sessions not blocked on it, weighted by how many matches they saw
  // with the field known.
  for (int f = 0; f < kFieldCount; ++f) {
    std::array<double, kLevels> m{};
    double weight = 0;
    for (size_t i = 0; i < sessions.size(); ++i) {
      if (std::find(blocked[i].begin(), blocked[i].end(), f) != blocked[i].end()) continue;
      const double w = sessions[i].evidence[f];
      for (int l = 0; l < kLevels; ++l) m[l] += w * sessions[i].m[f][l];
      weight += w;
    }
    for (int l = 0; l < kLevels; ++l) {
      model.m_[f][l] = weight > 0 ? m[l] / weight : 0.25;
    }
    // People move, change e-mail and get typed wrong; no level may be so rare among
    // matches that one comparison outweighs everything else.
    model.m_[f][1] = std::max(model.m_[f][1], 0.005);
    model.m_[f][2] = std::max(model.m_[f][2], 0.005);
    model.m_[f][3] = std::max(model.m_[f][3], 0.02);
  }
  const Session& by_dob = sessions[0];
  const Session& by_name = sessions[1];
  // A strong identifier is one by definition (one customer number per customer): rarely
  // missing from a match's pair when both records have one, and not learnt by EM, whose
  // sessions seldom see such pairs (billing records have neither a date nor full names).
  model.m_[kStrongId] = {0.99, 0.0, 0.0, 0.01};
  // The prior: how many pairs of all pairs are the same person, from the session that
  // found the most (each finds only the matches its blocking lets meet).
  const double expected = std::max(by_dob.expected_matches, by_name.expected_matches);
  const double all_pairs = static_cast<double>(n) * static_cast<double>(n - 1) / 2;
  model.prior_ = std::clamp(expected / all_pairs, 1e-12, 0.5);
  model.Finish();
  return model;
}

std::vector<std::string> BlockingKeys(const PersonRecord& r) {
  std::vector<std::string> keys;
  auto prefix = [](const std::string& s, size_t n) { return s.substr(0, std::min(n, s.size())); };
  if (!r.dob.empty()) {
    if (!r.family.empty()) keys.push_back(absl::StrCat("d", r.dob, prefix(r.family, 1)));
    if (!r.given.empty()) keys.push_back(absl::StrCat("g", r.dob, prefix(r.given, 1)));
  }
  if (!r.given.empty() && !r.family.empty()) {
    // Order-free, so that swapped given and family names meet. Four letters of each: three
    // made blocks of every Jan Jansen-ish name in a large population; whole names lose the
    // typos that only the name can catch (records without a date of birth).
    std::string x = prefix(r.given, 4), y = prefix(r.family, 4);
    if (y < x) std::swap(x, y);
    keys.push_back(absl::StrCat("n", x, "|", y));
  }
  if (!r.postcode.empty() && !r.house_number.empty()) {
    keys.push_back(absl::StrCat("a", r.postcode, "|", r.house_number));
  }
  // A street name and number recur in every town: with the town, or not at all.
  if (!r.street.empty() && !r.house_number.empty() && !r.city.empty()) {
    keys.push_back(absl::StrCat("t", r.street, "|", r.house_number, "|", r.city));
  }
  if (!r.email.empty()) keys.push_back("e" + r.email);
  if (!r.phone.empty()) keys.push_back("p" + r.phone);
  if (!r.strong_id.empty()) keys.push_back("s" + r.strong_id);
  if (!r.national_id.empty()) keys.push_back("i" + r.national_id);
  return keys;
}

size_t BlockLimits::Of(std::string_view key) const {
  const bool common = !key.empty() && (key[0] == 'n' || key[0] == 'd' || key[0] == 'g');
  return static_cast<size_t>(std::max(0, common ? std::min(max, max_common) : max));
}

std::vector<std::pair<uint32_t, uint32_t>> CandidatePairs(const std::vector<PersonRecord>& records,
                                                          const BlockLimits& limits, int64_t* skipped,
                                                          const std::string& kinds) {
  struct Keyed {
    uint64_t hash;
    uint32_t record;
    uint32_t limit;  // of the key's block
    bool operator<(const Keyed& o) const { return std::tie(hash, record) < std::tie(o.hash, o.record); }
  };
  std::vector<Keyed> keyed;
  keyed.reserve(records.size() * 6);
  for (uint32_t i = 0; i < records.size(); ++i) {
    for (const std::string& k : BlockingKeys(records[i])) {
      if (!kinds.empty() && kinds.find(k[0]) == std::string::npos) continue;
      keyed.push_back({absl::Hash<std::string>()(k), i, static_cast<uint32_t>(limits.Of(k))});
    }
  }
  std::sort(keyed.begin(), keyed.end());
  std::vector<std::pair<uint32_t, uint32_t>> pairs;
  int64_t skip = 0;
  for (size_t start = 0; start < keyed.size();) {
    size_t end = start;
    while (end < keyed.size() && keyed[end].hash == keyed[start].hash) ++end;
    const size_t size = end - start;
    if (size > keyed[start].limit) {
      ++skip;
    } else {
      for (size_t i = start; i < end; ++i) {
        for (size_t j = i + 1; j < end; ++j) {
          uint32_t a = keyed[i].record, b = keyed[j].record;
          if (a != b) pairs.emplace_back(std::min(a, b), std::max(a, b));
        }
      }
    }
    start = end;
  }
  std::sort(pairs.begin(), pairs.end());
  pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
  if (skipped != nullptr) *skipped = skip;
  return pairs;
}

Resolution Resolve(const std::vector<PersonRecord>& records, const Model& model,
                   const ResolverOptions& options, int threads) {
  Resolution out;
  auto candidates = CandidatePairs(records, options.blocks, &out.skipped_blocks);
  out.candidate_pairs = static_cast<int64_t>(candidates.size());

  // Score in parallel: each thread keeps the pairs worth a look from its slice.
  threads = std::max(1, threads);
  std::vector<std::vector<ScoredPair>> scored(static_cast<size_t>(threads));
  std::vector<int64_t> vetoed(static_cast<size_t>(threads));
  {
    std::vector<std::thread> workers;
    const size_t slice = (candidates.size() + static_cast<size_t>(threads) - 1) / static_cast<size_t>(threads);
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        const size_t lo = static_cast<size_t>(t) * slice;
        const size_t hi = std::min(candidates.size(), lo + slice);
        for (size_t i = lo; i < hi; ++i) {
          const auto [a, b] = candidates[i];
          Comparison c = Compare(records[a], records[b]);
          const double p = model.Probability(c);
          if (p < options.review_probability) continue;
          if (options.guards && Vetoed(records[a], records[b], c)) {
            ++vetoed[static_cast<size_t>(t)];
            continue;
          }
          scored[static_cast<size_t>(t)].push_back({a, b, p, ScoredPair::kLinked});
        }
      });
    }
    for (auto& w : workers) w.join();
  }
  std::vector<ScoredPair> pairs;
  for (auto& s : scored) pairs.insert(pairs.end(), s.begin(), s.end());
  for (int64_t v : vetoed) out.vetoed_pairs += v;
  // Strongest evidence first, ties in a fixed order so that runs repeat.
  std::sort(pairs.begin(), pairs.end(), [](const ScoredPair& x, const ScoredPair& y) {
    return x.probability != y.probability ? x.probability > y.probability
                                          : std::tie(x.a, x.b) < std::tie(y.a, y.b);
  });

  std::set<std::string> shared;
  if (options.guards) {
    std::vector<const PersonRecord*> all;
    all.reserve(records.size());
    for (const PersonRecord& r : records) all.push_back(&r);
    shared = SharedContacts(all);
  }
  Clusters clusters(records.size());
  auto Clash = [&](const ScoredPair& p, uint32_t ra, uint32_t rb) {
    auto group = [&](uint32_t root) {
      std::vector<const PersonRecord*> out;
      for (uint32_t x : clusters.Members(root)) out.push_back(&records[x]);
      return out;
    };
    return GroupsClash(records[p.a], records[p.b], group(ra), group(rb));
  };
  std::vector<ScoredPair> weak;
  for (ScoredPair p : pairs) {
    const uint32_t ra = clusters.Find(p.a), rb = clusters.Find(p.b);
    if (ra == rb) continue;
    if (p.probability < options.link_probability) {
      p.reason = ScoredPair::kBetweenThresholds;
      out.review.push_back(p);
      continue;
    }
    if (clusters.Members(ra).size() + clusters.Members(rb).size() >
        static_cast<size_t>(options.max_cluster_size)) {
      p.reason = ScoredPair::kClusterTooLarge;
      out.review.push_back(p);
      continue;
    }
    if (options.guards && Clash(p, ra, rb)) {
      p.reason = ScoredPair::kVetoedInCluster;
      out.review.push_back(p);
      continue;
    }
    if (options.guards &&
        !PersonalEvidence(records[p.a], records[p.b], Compare(records[p.a], records[p.b]), shared)) {
      weak.push_back(p);  // decided once every pair with personal evidence has joined
      continue;
    }
    clusters.Join(ra, rb);
    out.links.push_back(p);
  }
  // A household's evidence (a shared home or contact with compatible names, "m l bruin" at
  // Marloes Lieke Bruin's address) joins a record only to the one cluster it fits: where
  // it fits two, it could be either person, and a person decides.
  if (!weak.empty()) {
    absl::flat_hash_map<uint32_t, std::set<uint32_t>> fits;  // record -> clusters it fits
    for (const ScoredPair& p : weak) {
      fits[p.a].insert(clusters.Find(p.b));
      fits[p.b].insert(clusters.Find(p.a));
    }
    for (ScoredPair p : weak) {
      const uint32_t ra = clusters.Find(p.a), rb = clusters.Find(p.b);
      if (ra == rb) continue;
      const size_t fitting = std::min(fits[p.a].size(), fits[p.b].size());
      const bool too_large = clusters.Members(ra).size() + clusters.Members(rb).size() >
                             static_cast<size_t>(options.max_cluster_size);
      if (!HouseholdEvidenceSuffices(records[p.a], records[p.b], fitting) || too_large || Clash(p, ra, rb)) {
        p.reason = ScoredPair::kWeakEvidence;
        out.review.push_back(p);
        continue;
      }
      clusters.Join(ra, rb);
      out.links.push_back(p);
    }
  }
  out.cluster.resize(records.size());
  std::vector<uint32_t> first(records.size(), UINT32_MAX);
  for (uint32_t i = 0; i < records.size(); ++i) {
    uint32_t r = clusters.Find(i);
    if (first[r] == UINT32_MAX) first[r] = i;
    out.cluster[i] = first[r];
  }
  return out;
}

}  // namespace cdp::resolution
