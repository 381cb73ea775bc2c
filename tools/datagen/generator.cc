#include "tools/datagen/generator.h"

#include <array>

#include "absl/container/flat_hash_set.h"
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/ascii.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace cdp::datagen {
namespace {

constexpr std::array<const char*, 48> kMale = {
    "Jan", "Pieter", "Kees", "Willem", "Hendrik", "Johannes", "Cornelis", "Gerrit", "Daan",
    "Bram", "Sem", "Lucas", "Levi", "Finn", "Thijs", "Ruben", "Jesse", "Tim", "Lars", "Milan",
    "Stijn", "Jeroen", "Bas", "Mark", "Erik", "Dirk", "Joost", "Wouter", "Martijn", "Sander",
    "Niels", "Koen", "Arjen", "Henk", "Gert", "Frank", "Rob", "Mohamed", "Yusuf", "Mehmet",
    "Ahmed", "Kevin", "Dennis", "Vincent", "Maarten", "Floris", "Teun", "Jasper"};
constexpr std::array<const char*, 48> kFemale = {
    "Anna", "Emma", "Julia", "Sophie", "Lotte", "Sanne", "Femke", "Eva", "Lisa", "Anouk",
    "Marieke", "Ingrid", "Els", "Johanna", "Maria", "Cornelia", "Wilhelmina", "Hendrika", "Tess",
    "Fenna", "Noor", "Saar", "Lieke", "Iris", "Esther", "Monique", "Petra", "Annemarie",
    "Anne-Marie", "Zoë", "Chloë", "Fatima", "Aylin", "Yasmina", "Nadia", "Linda", "Karin",
    "Mirjam", "Inge", "Marloes", "Roos", "Fleur", "Maud", "Isa", "Nina", "Elif", "Joke", "Ilse"};
constexpr std::array<const char*, 60> kFamily = {
    "Jansen", "de Jong", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen", "Visser",
    "Smit", "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks",
    "van Leeuwen", "Dekker", "Brouwer", "de Wit", "Dijkstra", "Smits", "de Graaf", "van der Meer",
    "van der Linden", "Kok", "Jacobs", "de Haan", "Vermeulen", "van den Heuvel", "van der Veen",
    "van den Broek", "de Bruijn", "de Bruin", "van der Heijden", "Schouten", "van Beek", "Willems",
    "van Vliet", "van de Ven", "Hoekstra", "Maas", "Verhoeven", "Koster", "van Dam", "van der Wal",
    "Prins", "Blom", "Huisman", "Peeters", "de Lange", "Kuipers", "van Wijk", "Postma",
    "'t Hart", "Yılmaz", "Öztürk", "El Amrani", "Brückner"};
// Family names beyond the commonest: Dutch-sounding compounds ("Oosterveld", "van den
// Hoek", "Kleinbrink"), so that a large population has namesakes about as often as a real
// one, not far more.
constexpr std::array<const char*, 24> kRoots = {
    "veld", "dijk", "broek", "bosch", "hoek", "kamp", "meer", "horst", "wijk", "beek", "brink",
    "hof", "burg", "weide", "akker", "haar", "stra", "mans", "inga", "huis", "water", "berg",
    "kerk", "molen"};
constexpr std::array<const char*, 20> kStems = {
    "Ooster", "Wester", "Noord", "Zuid", "Hoog", "Klein", "Groot", "Nieuw", "Oud", "Brug",
    "Haver", "Linde", "Eike", "Zand", "Riet", "Dorre", "Bloem", "Koe", "Schaaps", "Vlas"};
constexpr std::array<const char*, 6> kCompoundParticles = {"", "", "", "van ", "van den ", "ter "};

constexpr std::array<std::pair<const char*, int>, 26> kCities = {{
    {"Amsterdam", 1011}, {"Rotterdam", 3011}, {"Den Haag", 2511}, {"Utrecht", 3511},
    {"Eindhoven", 5611}, {"Groningen", 9711}, {"Tilburg", 5011}, {"Almere", 1311},
    {"Breda", 4811}, {"Nijmegen", 6511}, {"Apeldoorn", 7311}, {"Haarlem", 2011},
    {"Arnhem", 6811}, {"Enschede", 7511}, {"Amersfoort", 3811}, {"Zaandam", 1501},
    {"Den Bosch", 5211}, {"Zwolle", 8011}, {"Leiden", 2311}, {"Maastricht", 6211},
    {"Dordrecht", 3311}, {"Ede", 6711}, {"Alkmaar", 1811}, {"Delft", 2611},
    {"Leeuwarden", 8911}, {"Deventer", 7411}}};
constexpr std::array<const char*, 40> kStreets = {
    "Kerkstraat", "Schoolstraat", "Molenweg", "Dorpsstraat", "Stationsweg", "Julianastraat",
    "Beatrixlaan", "Wilhelminastraat", "Nieuwstraat", "Marktplein", "Parallelweg", "Industrieweg",
    "Prinses Irenestraat", "Eikenlaan", "Beukenlaan", "Lindelaan", "Kastanjelaan", "Dahliastraat",
    "Rozenstraat", "Tulpstraat", "Hoofdstraat", "Burgemeester de Withstraat", "Oranjestraat",
    "Van Goghstraat", "Rembrandtlaan", "Vondelstraat", "Herengracht", "Prinsengracht",
    "Keizersgracht", "Singel", "Zeeweg", "Duinweg", "Polderweg", "Dijkstraat", "Havenstraat",
    "Sluisweg", "Brugstraat", "Torenstraat", "Ganzenmarkt", "Achterom"};
constexpr std::array<const char*, 8> kDomains = {"gmail.com", "hotmail.com", "outlook.com", "ziggo.nl",
                                                 "kpnmail.nl", "live.nl", "xs4all.nl", "planet.nl"};

struct Address {
  std::string street;
  int number;
  std::string addition;
  int postcode_digits;
  std::string postcode_letters;
  std::string city;
};

struct Person {
  std::string id;
  std::string given;       // all given names, "Jan Pieter"
  std::string prefix;      // "van der"
  std::string family;      // "Berg"
  absl::CivilDay dob;
  std::string email;
  std::string mobile;      // ten digits, "0612345678"
  std::string customer_number;
  Address address;
  Address old_address;     // differs for people who moved
  bool moved = false;
};

class Gen {
 public:
  explicit Gen(uint64_t seed) : rng_(seed) {}
  double U() { return std::uniform_real_distribution<double>(0, 1)(rng_); }
  bool P(double p) { return U() < p; }
  int Int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  template <typename A>
  const auto& Pick(const A& a) { return a[static_cast<size_t>(Int(0, static_cast<int>(a.size()) - 1))]; }

  // One typo: a letter replaced, dropped, doubled or two swapped.
  std::string Typo(std::string s) {
    if (s.size() < 3) return s;
    size_t i = static_cast<size_t>(Int(1, static_cast<int>(s.size()) - 2));
    if (!absl::ascii_isalpha(static_cast<unsigned char>(s[i])) ||
        !absl::ascii_isalpha(static_cast<unsigned char>(s[i + 1]))) {
      return s;
    }
    switch (Int(0, 3)) {
      case 0: s[i] = static_cast<char>('a' + Int(0, 25)); break;
      case 1: s.erase(i, 1); break;
      case 2: s.insert(i, 1, s[i]); break;
      default: std::swap(s[i], s[i + 1]); break;
    }
    return s;
  }

  Address NewAddress() {
    const auto& [city, base] = Pick(kCities);
    Address a;
    a.city = city;
    a.street = Pick(kStreets);
    a.number = Int(1, 250);
    a.addition = P(0.12) ? std::string(1, static_cast<char>('A' + Int(0, 3))) : (P(0.04) ? "bis" : "");
    a.postcode_digits = base + Int(0, 88);
    std::string letters;
    do {
      letters = {static_cast<char>('A' + Int(0, 25)), static_cast<char>('A' + Int(0, 25))};
    } while (letters == "SA" || letters == "SD" || letters == "SS");
    a.postcode_letters = letters;
    return a;
  }

  std::mt19937_64 rng_;
};

// A third of families carry one of the commonest names; the rest a rarer compound.
std::string FamilyName(Gen& g) {
  if (g.P(0.35)) return g.Pick(kFamily);
  std::string root = g.Pick(kRoots);
  std::string particle = g.Pick(kCompoundParticles);
  if (!particle.empty()) {
    root[0] = absl::ascii_toupper(static_cast<unsigned char>(root[0]));
    return particle + g.Pick(kStems) + root;
  }
  return std::string(g.Pick(kStems)) + root;
}

std::string Mobile(Gen& g) { return absl::StrFormat("06%08d", g.Int(10000000, 99999999)); }

std::string EmailLocal(const Person& p, Gen& g) {
  std::string first = absl::AsciiStrToLower(p.given.substr(0, p.given.find(' ')));
  std::string last = absl::AsciiStrToLower(p.family);
  for (char& c : first) if (!absl::ascii_isalnum(static_cast<unsigned char>(c))) c = '-';
  for (char& c : last) if (!absl::ascii_isalnum(static_cast<unsigned char>(c))) c = '-';
  switch (g.Int(0, 3)) {
    case 0: return absl::StrCat(first, ".", last);
    case 1: return absl::StrCat(first.substr(0, 1), last, g.Int(1, 99));
    case 2: return absl::StrCat(first, last.substr(0, 1), g.Int(60, 99));
    default: return absl::StrCat(first, "_", last);
  }
}

std::string UniqueEmail(std::string email, absl::flat_hash_set<std::string>& used) {
  if (used.insert(email).second) return email;
  const size_t at = email.find('@');
  for (int n = 2;; ++n) {
    std::string other = absl::StrCat(email.substr(0, at), n, email.substr(at));
    if (used.insert(other).second) return other;
  }
}

std::string Initials(const std::string& given) {
  std::string out;
  bool start = true;
  for (char c : given) {
    if (c == ' ' || c == '-') { start = true; continue; }
    if (start) { out.push_back(absl::ascii_toupper(static_cast<unsigned char>(c))); out.push_back('.'); start = false; }
  }
  return out;
}

std::string FamilyWithPrefix(const Person& p) {
  return p.prefix.empty() ? p.family : absl::StrCat(p.prefix, " ", p.family);
}

void SplitFamily(const std::string& full, std::string* prefix, std::string* family) {
  static const char* kParticles[] = {"van der ", "van den ", "van de ", "van ", "de ", "'t "};
  for (const char* particle : kParticles) {
    std::string p = particle;
    if (full.compare(0, p.size(), p) == 0) {
      *prefix = p.substr(0, p.size() - 1);
      *family = full.substr(p.size());
      return;
    }
  }
  prefix->clear();
  *family = full;
}

std::string PostcodeSpaced(const Address& a) { return absl::StrCat(a.postcode_digits, " ", a.postcode_letters); }
std::string PostcodeTight(const Address& a) { return absl::StrCat(a.postcode_digits, a.postcode_letters); }

}  // namespace

const std::vector<std::string>& SourceSystems() {
  static const auto* s = new std::vector<std::string>{"crm", "webshop", "billing", "contact-centre"};
  return *s;
}

void Generate(const GeneratorOptions& options,
              const std::function<void(const GeneratedRecord&)>& emit) {
  Gen g(options.seed);
  // A mailbox belongs to one person (or one household, below): namesakes get another.
  absl::flat_hash_set<std::string> used_emails;
  int64_t made = 0;
  int64_t household = 0;
  std::array<int64_t, 4> next_id{};
  const int64_t base_time = absl::ToUnixSeconds(absl::FromCivil(absl::CivilSecond(2026, 1, 1, 8, 0, 0), absl::UTCTimeZone()));
  while (made < options.people) {
    ++household;
    const std::string household_id = absl::StrCat("h", household);
    // Household size and shape.
    const double r = g.U();
    const int adults = r < 0.45 ? 1 : 2;
    int children = r < 0.70 ? 0 : (r < 0.85 ? 1 : 2);
    std::string prefix, family;
    SplitFamily(FamilyName(g), &prefix, &family);
    const Address home = g.NewAddress();
    const std::string landline = absl::StrFormat("0%d%07d", g.Int(10, 79), g.Int(1000000, 9999999));
    const bool shared_email = g.P(0.25);
    const bool twins = children == 2 && g.P(0.08);
    std::string household_email;
    std::vector<Person> members;
    const int parent_year = g.Int(1940, 1990);
    for (int i = 0; i < adults + children && made < options.people; ++i, ++made) {
      Person p;
      p.id = absl::StrCat("p", made + 1);
      const bool female = g.P(0.5);
      p.given = female ? g.Pick(kFemale) : g.Pick(kMale);
      if (g.P(0.3)) p.given = absl::StrCat(p.given, " ", female ? g.Pick(kFemale) : g.Pick(kMale));
      if (i == 1 && g.P(0.5)) {
        SplitFamily(FamilyName(g), &p.prefix, &p.family);  // partner kept their own name
      } else {
        p.prefix = prefix;
        p.family = family;
      }
      if (i < adults) {
        p.dob = absl::CivilDay(parent_year + g.Int(-4, 4), g.Int(1, 12), g.Int(1, 28));
      } else if (twins && i == adults + 1) {
        p.dob = members.back().dob;  // the twin
      } else {
        p.dob = absl::CivilDay(std::min(parent_year + g.Int(22, 36), 2008), g.Int(1, 12), g.Int(1, 28));
      }
      p.email = UniqueEmail(absl::StrCat(EmailLocal(p, g), "@", g.Pick(kDomains)), used_emails);
      if (shared_email && i < 2) {
        if (household_email.empty()) {
          household_email = absl::StrCat("fam", absl::AsciiStrToLower(p.family.substr(0, 4)), g.Int(1, 999), "@", g.Pick(kDomains));
          for (char& c : household_email) if (c == ' ' || c == '\'') c = '-';
          household_email = UniqueEmail(household_email, used_emails);
        }
        p.email = household_email;
      }
      p.mobile = Mobile(g);
      p.customer_number = absl::StrFormat("K%07d", made + 1);
      p.address = home;
      p.moved = g.P(0.1);
      p.old_address = p.moved ? g.NewAddress() : home;
      members.push_back(p);
    }

    for (const Person& p : members) {
      auto record = [&](int source) {
        GeneratedRecord rec;
        rec.source = SourceSystems()[static_cast<size_t>(source)];
        rec.record_id = absl::StrCat(rec.source.substr(0, 2), "-", ++next_id[static_cast<size_t>(source)]);
        rec.person_id = p.id;
        rec.household_id = household_id;
        rec.changed_at = base_time + g.Int(0, 300 * 86400);
        return rec;
      };
      auto typo = [&](const std::string& s, double p_typo) { return g.P(p_typo) ? g.Typo(s) : s; };
      auto dob = [&](const absl::FormatSpec<int64_t, int, int>& format) {
        absl::CivilDay d = p.dob;
        if (g.P(0.01) && d.day() <= 12) d = absl::CivilDay(d.year(), d.day(), d.month());
        return absl::StrFormat(format, d.year(), d.month(), d.day());
      };
      if (g.P(0.85)) {  // CRM
        GeneratedRecord rec = record(0);
        rec.attributes = {{"customer_number", p.customer_number},
                          {"given_name", typo(p.given, 0.03)},
                          {"family_name", typo(p.family, 0.03)},
                          {"date_of_birth", [&] {
                             absl::CivilDay d = p.dob;
                             return absl::StrFormat("%02d-%02d-%04d", d.day(), d.month(), d.year());
                           }()},
                          {"email", p.email},
                          {"phone_mobile", absl::StrCat(p.mobile.substr(0, 2), "-", p.mobile.substr(2))},
                          {"street", p.address.street},
                          {"house_number", absl::StrCat(p.address.number, p.address.addition)},
                          {"postcode", PostcodeSpaced(p.address)},
                          {"city", p.address.city}};
        if (!p.prefix.empty()) rec.attributes.push_back({"family_name_prefix", p.prefix});
        if (g.P(0.5)) rec.attributes.push_back({"phone_home", landline});
        emit(rec);
      }
      const int accounts = g.P(0.65) ? (g.P(0.05) ? 2 : 1) : 0;
      for (int a = 0; a < accounts; ++a) {  // webshop
        GeneratedRecord rec = record(1);
        std::string first = p.given.substr(0, p.given.find(' '));
        std::string email = a == 0 ? p.email : UniqueEmail(absl::StrCat(EmailLocal(p, g), "@", g.Pick(kDomains)), used_emails);
        if (g.P(0.1)) email = absl::AsciiStrToUpper(email);
        rec.attributes = {{"full_name", typo(absl::StrCat(first, " ", FamilyWithPrefix(p)), 0.04)},
                          {"email", email},
                          {"street", p.address.street},
                          {"house_number", absl::StrCat(p.address.number, p.address.addition.empty() ? "" : "-", p.address.addition)},
                          {"postcode", PostcodeTight(p.address)},
                          {"city", p.address.city}};
        if (g.P(0.8)) {
          rec.attributes.push_back({"phone_mobile", absl::StrCat("+31 6 ", p.mobile.substr(2, 4), " ", p.mobile.substr(6))});
        }
        if (g.P(0.6)) rec.attributes.push_back({"date_of_birth", dob("%04d-%02d-%02d")});
        emit(rec);
      }
      if (g.P(0.55)) {  // billing
        GeneratedRecord rec = record(2);
        const Address& addr = p.old_address;  // billing lags behind a move
        rec.attributes = {{"full_name", absl::StrCat(Initials(p.given), " ", FamilyWithPrefix(p))},
                          {"street", addr.street},
                          {"house_number", absl::StrCat(addr.number, addr.addition.empty() ? "" : " ", addr.addition)},
                          {"postcode", PostcodeSpaced(addr)},
                          {"city", addr.city}};
        if (g.P(0.75)) rec.attributes.push_back({"customer_number", p.customer_number});
        if (g.P(0.5)) rec.attributes.push_back({"email", p.email});
        emit(rec);
      }
      if (g.P(0.45)) {  // contact centre
        GeneratedRecord rec = record(3);
        std::string first = p.given.substr(0, p.given.find(' '));
        std::string name = g.P(0.5) ? absl::StrCat(p.family, ", ", first, p.prefix.empty() ? "" : " ", p.prefix)
                                    : absl::StrCat(first, " ", FamilyWithPrefix(p));
        if (g.P(0.02)) name = absl::StrCat(p.family, " ", first);  // swapped by the agent
        rec.attributes = {{"full_name", typo(name, 0.05)}};
        if (g.P(0.7)) {
          rec.attributes.push_back({"phone_mobile", absl::StrCat("0031", p.mobile.substr(1))});
        } else {
          rec.attributes.push_back({"phone_home", landline});
        }
        if (g.P(0.4)) rec.attributes.push_back({"email", p.email});
        emit(rec);
      }
    }
  }
}

}  // namespace cdp::datagen
