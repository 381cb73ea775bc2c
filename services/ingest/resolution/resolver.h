// Identity resolution: which source records describe the same person.
//
// Fellegi-Sunter: two records are compared field by field, each comparison falling into a
// level (exact, close, ..., different, or unknown when a side is missing). Each level has
// m = P(level | same person) and u = P(level | different people); the match weight is the
// sum of log2(m/u) over the fields plus the prior's log-odds, and the match probability
// follows from it. u is estimated from random pairs, m and the prior by
// expectation-maximisation over the blocked candidate pairs (as Splink does).
//
// Blocking: records are compared only when they share a blocking key (date of birth with
// an initial, name prefixes, postcode with house number, e-mail, phone, strong id), so the
// work grows with the records, not with their square.
//
// Over-merging guards (VetoOf): a pair that is clearly two people (dates of birth a
// generation apart, different customer numbers, given names that are two people's, as
// twins') is never joined, whatever else it shares (a household's e-mail, phone or
// address), and no two clusters join while such pairs across them say they are two
// people (GroupsClash). A pair
// that only raises doubt (clearly different dates without agreeing names, a different
// family name without an agreeing date, a given name typed badly) never joins by itself,
// but may share a cluster that other records link. A pair agreeing only on what a
// household shares goes to review (PersonalEvidence), and a cluster never grows past a
// configured size: such links go to review instead. An equal national id decides.
#ifndef CDP_SERVICES_INGEST_RESOLUTION_RESOLVER_H_
#define CDP_SERVICES_INGEST_RESOLUTION_RESOLVER_H_

#include <array>
#include <set>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cdp::resolution {

// One source record's description of a person, normalised (services/ingest/normalize.h).
// Empty means unknown.
struct PersonRecord {
  std::string given;         // folded given names, "anne marie"
  std::string family;        // folded family name without particle, "berg"
  std::string dob;           // "YYYY-MM-DD" (or any fixed-width date text)
  std::string email;         // normalised e-mail
  std::string phone;         // E.164, a personal (mobile) number: landlines are shared
  std::string postcode;
  std::string house_number;  // with addition, "12A"
  std::string street;        // folded
  std::string city;          // folded
  std::string strong_id;     // customer number: equal means the same person
  // A government-issued personal number (a social-security number, a BSN), where a source
  // holds one lawfully: one per person, shared by no household, but typed by hand, so one
  // substituted or transposed digit is a typo rather than someone else.
  std::string national_id;
};

enum Field : int {
  kGiven, kFamily, kDob, kEmail, kPhone, kAddress, kStreet, kCity, kStrongId, kNationalId,
  kFieldCount
};
const char* FieldName(int field);

constexpr int kLevels = 4;           // 0 exact ... 3 different
constexpr uint8_t kUnknown = 255;    // a side is missing

// The level of each field for a pair of records.
struct Comparison {
  std::array<uint8_t, kFieldCount> level;
};
Comparison Compare(const PersonRecord& a, const PersonRecord& b);

// Whether the guards forbid joining the pair directly: VetoOf is not kNone.
bool Vetoed(const PersonRecord& a, const PersonRecord& b, const Comparison& c);

// How firmly the guards forbid a pair. kTwoPeople: the records are clearly two people; no
// cluster holding one may join a cluster holding the other. kTwoGivenNames: their given
// names are two people's (twins'); clusters holding them join only when such pairs are a
// minority across them (GroupsClash). kDoubt: the pair itself is no evidence, but in a
// noisy source such a record may still be the same person as the rest of a cluster that
// other pairs link. In order:
//   an equal national id, or one a typo apart: kNone (one person, whatever else differs);
//   clearly different dates of birth 15 years or more apart: kTwoPeople (parent, child);
//   clearly different dates less apart: kDoubt, unless the given names (up to a typo) and
//     the family names (up to a typo, or one missing) agree: one person's date typed wrong;
//   equal customer numbers, or national ids two typos apart: kNone;
//   different customer numbers: kTwoPeople;
//   clearly different given names: kTwoGivenNames, unless they are one long name typed badly
//     (kDoubt), a first name typed wrong beside a middle name (kDoubt), or written in the
//     other record's family name field (kNone);
//   clearly different family names without an agreeing date of birth: kDoubt.
enum class Veto : uint8_t { kNone, kDoubt, kTwoGivenNames, kTwoPeople };
Veto VetoOf(const PersonRecord& a, const PersonRecord& b, const Comparison& c);
inline bool ClearlyTwoPeople(Veto v) { return v == Veto::kTwoGivenNames || v == Veto::kTwoPeople; }

// Whether the guards forbid joining two groups of records (two clusters, or a new record
// and a profile) through their pair `a`-`b`. Any pair across them that VetoOf finds
// kTwoPeople forbids it (different customer numbers, dates of birth a generation apart).
// kTwoGivenNames pairs forbid it only when they are at least half the pairs across with
// given names on both sides (records without one say nothing about it): one record whose
// given name was replaced (a typo, a nickname, a source's error) must not keep a person's
// records apart, while twins differ on every pair. An equal national id on `a`-`b` decides.
bool GroupsClash(const PersonRecord& a, const PersonRecord& b,
                 const std::vector<const PersonRecord*>& group_a,
                 const std::vector<const PersonRecord*>& group_b);

// Whether the pair agrees on something personal, not only on what a household shares:
// an equal strong identifier or national id, the date of birth (up to a typo), the whole
// name (given and family, up to a typo) with known dates of birth less than a generation
// apart, or the given name (or compatible initials) together with an e-mail address or
// mobile number that `shared` does not list as used by several people. With the guards
// on, a pair without it is never joined automatically, only put up for review.
bool PersonalEvidence(const PersonRecord& a, const PersonRecord& b, const Comparison& c,
                      const std::set<std::string>& shared = {});

// Whether a pair without personal evidence (a shared home or contact, compatible names)
// may still join: its given names vouch for two given names ("m l" and "marloes lieke"),
// and the record fits exactly one cluster (`clusters_fitting`), so it cannot be someone
// else of the household. One initial is too little: the household's other "M. Bruin" may
// only ever be written so.
bool HouseholdEvidenceSuffices(const PersonRecord& a, const PersonRecord& b, size_t clusters_fitting);

// E-mail addresses and mobile numbers that records with clearly different given names
// use: a household's, not a person's. With `of`, only that record's own e-mail address and
// mobile number are looked at (all PersonalEvidence needs for a pair with it).
std::set<std::string> SharedContacts(const std::vector<const PersonRecord*>& records,
                                     const PersonRecord* of = nullptr);

class Model {
 public:
  // Neutral parameters (every weight 0); use Train.
  Model();
  // Estimates u from `random_pairs` sampled pairs, and m and the prior by EM in two
  // sessions over pairs blocked on personal identifiers (date of birth; name prefixes),
  // each learning only the fields it was not blocked on.
  static Model Train(const std::vector<PersonRecord>& records, int random_pairs = 300000,
                     int iterations = 25, uint32_t seed = 1);

  // log2 Bayes factor plus the prior log-odds that two records picked at random are the
  // same person (so probabilities do not depend on how generous the blocking is).
  double Weight(const Comparison& c) const;
  double Probability(const Comparison& c) const;   // in [0, 1]
  // The evidence alone, without the prior: log2 of the Bayes factor. Incremental resolution
  // compares one record with one profile and uses thresholds on this.
  double BayesFactorBits(const Comparison& c) const;

  // Parameters trained on generated Dutch data (tools/datagen, 100,000 people, seed 7):
  // what a store starts with before it holds enough records to train on its own.
  static Model Default();
  double prior() const { return prior_; }
  // The parameters as a table: field, level, m, u, weight.
  std::string Describe() const;

 private:
  // Fills bits_ and prior_bits_ from m_, u_ and prior_: the last step of Model(), Default
  // and Train.
  void Finish();

  std::array<std::array<double, kLevels>, kFieldCount> m_{};
  std::array<std::array<double, kLevels>, kFieldCount> u_{};
  double prior_ = 0.5;
  // log2(m / u) per field and level, and the prior's log-odds: made once, since every
  // candidate pair is weighed (a log2 per field was 2% of cdp-ingest's CPU).
  std::array<std::array<double, kLevels>, kFieldCount> bits_{};
  double prior_bits_ = 0;
};

// The largest blocks still compared; larger ones are skipped, too common to tell anything.
// A key made of a name or of a date of birth with an initial (kinds n, d and g) is shared
// by more people the more people there are: at 1M generated people the largest name block
// held 1,976 records, and at 100k the name blocks made 18 pairs a record, of which one in 40
// was the same person. An address, a contact or an id is shared by a household at most.
// Capping those common keys at 10 left precision, recall and F1 the same to four places
// on FEBRL 3 and 4, fake_1000 and generated 10k and 100k (at 1M recall rose, 0.8198 to
// 0.8232), and keeps the pairs a record meets from growing with the data
// (bench/resolution_bench.cc --block_stats shows each kind's blocks and pairs).
struct BlockLimits {
  int max = 100;        // any key
  int max_common = 10;  // keys of kinds n, d and g
  // The limit for `key` (a BlockingKeys key).
  size_t Of(std::string_view key) const;
};

struct ResolverOptions {
  double link_probability = 0.9;     // at or above: same person
  double review_probability = 0.5;   // between: a person decides (ListMatchCandidates)
  int max_cluster_size = 10;         // links that would grow a cluster past this: review
  BlockLimits blocks;
  // The over-merging guards. Off only to compare with matchers that have none.
  bool guards = true;
};

struct ScoredPair {
  uint32_t a;
  uint32_t b;
  double probability;
  enum Reason : uint8_t {
    kLinked, kBetweenThresholds, kClusterTooLarge, kVetoedInCluster, kWeakEvidence
  } reason;
};

struct Resolution {
  std::vector<uint32_t> cluster;       // per record: the index of its cluster's first record
  std::vector<ScoredPair> links;       // pairs that joined clusters
  std::vector<ScoredPair> review;      // pairs held for a person
  int64_t candidate_pairs = 0;
  int64_t skipped_blocks = 0;
  int64_t vetoed_pairs = 0;
};

// The blocking keys of a record. The first character says what the key is made of:
// d, g date of birth with an initial; n name prefixes; a postcode and house number;
// t street and house number; e e-mail; p phone; s strong id; i national id.
std::vector<std::string> BlockingKeys(const PersonRecord& r);

// Candidate pairs (i < j, each once) of records sharing a blocking key whose kind is in
// `kinds` (empty: any); blocks over their limit are skipped and counted in `*skipped`.
std::vector<std::pair<uint32_t, uint32_t>> CandidatePairs(const std::vector<PersonRecord>& records,
                                                          const BlockLimits& limits, int64_t* skipped,
                                                          const std::string& kinds = "");

// Bulk resolution of `records` with `model`. `threads` > 1 scores pairs in parallel.
Resolution Resolve(const std::vector<PersonRecord>& records, const Model& model,
                   const ResolverOptions& options, int threads = 1);

}  // namespace cdp::resolution

#endif  // CDP_SERVICES_INGEST_RESOLUTION_RESOLVER_H_
