#include "services/ingest/resolution/resolver.h"

#include <random>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/ingest/resolution/similarity.h"

namespace cdp::resolution {
namespace {

TEST(SimilarityTest, JaroWinklerKnownValues) {
  EXPECT_NEAR(JaroWinkler("martha", "marhta"), 0.9611, 1e-4);
  EXPECT_NEAR(JaroWinkler("dwayne", "duane"), 0.84, 1e-4);
  EXPECT_NEAR(JaroWinkler("dixon", "dicksonx"), 0.8133, 1e-4);
  EXPECT_EQ(JaroWinkler("jansen", "jansen"), 1.0);
  EXPECT_EQ(JaroWinkler("", "jansen"), 0.0);
  EXPECT_EQ(JaroWinkler("abc", "xyz"), 0.0);
}

TEST(SimilarityTest, BoundedLevenshteinStopsAtTheLimit) {
  EXPECT_EQ(BoundedLevenshtein("kitten", "sitting", 5), 3);
  EXPECT_EQ(BoundedLevenshtein("kitten", "sitting", 1), 2);
  EXPECT_EQ(BoundedLevenshtein("1234567", "1234567", 1), 0);
  EXPECT_EQ(BoundedLevenshtein("1234567", "1243567", 2), 2);
}

TEST(SimilarityTest, WithinOneEditAgreesWithLevenshteinOnManyPairs) {
  // Short strings over a small alphabet, so that one-edit pairs are common.
  std::mt19937 random(7);
  auto word = [&] {
    std::string w(random() % 7, 'a');
    for (char& c : w) c = static_cast<char>('a' + random() % 3);
    return w;
  };
  int near = 0;
  for (int i = 0; i < 200000; ++i) {
    const std::string a = word(), b = i % 2 == 0 ? word() : a.substr(0, a.size() / 2) + word().substr(0, 1) +
                                                                  a.substr(std::min(a.size(), a.size() / 2 + random() % 2));
    const bool expected = BoundedLevenshtein(a, b, 1) <= 1;
    near += expected;
    ASSERT_EQ(WithinOneEdit(a, b), expected) << '"' << a << "\" and \"" << b << '"';
  }
  EXPECT_GT(near, 20000);  // the test saw plenty of both answers
  EXPECT_LT(near, 180000);
}

PersonRecord Person(std::string given, std::string family, std::string dob, std::string email = "",
                    std::string postcode = "1011AB", std::string house = "1") {
  PersonRecord r;
  r.given = std::move(given);
  r.family = std::move(family);
  r.dob = std::move(dob);
  r.email = std::move(email);
  r.postcode = std::move(postcode);
  r.house_number = std::move(house);
  r.street = "damstraat";
  r.city = "amsterdam";
  return r;
}

// A small population: a few people with variants, plus a household and twins.
std::vector<PersonRecord> Population() {
  std::vector<PersonRecord> r;
  const char* given[] = {"jan", "piet", "klaas", "anna", "sanne", "lotte", "daan", "bram", "emma", "julia"};
  const char* family[] = {"jansen", "bakker", "visser", "smit", "meijer", "mulder", "bos", "vos", "peters", "hendriks"};
  for (int i = 0; i < 200; ++i) {
    std::string dob = "19" + std::to_string(40 + i % 50) + "-0" + std::to_string(1 + i % 9) + "-1" + std::to_string(i % 10);
    std::string g = std::string(given[i % 10]) + (i >= 10 ? std::string(1, static_cast<char>('a' + i / 10 % 26)) : "");
    std::string f = std::string(family[(i / 3) % 10]) + std::string(1, static_cast<char>('a' + i % 26));
    std::string pc = std::to_string(1000 + i) + "AB";
    r.push_back(Person(g, f, dob, g + "." + f + "@example.nl", pc, std::to_string(1 + i % 40)));
    // A second record of the same person with a typo and another e-mail.
    PersonRecord typo = r.back();
    typo.family = f.substr(0, f.size() - 1) + "x" + f.substr(f.size() - 1);
    typo.email = g + "@other.nl";
    r.push_back(typo);
  }
  return r;
}

class ResolverTest : public ::testing::Test {
 protected:
  Resolution Run(std::vector<PersonRecord> extra) {
    records_ = Population();
    first_extra_ = records_.size();
    records_.insert(records_.end(), extra.begin(), extra.end());
    Model model = Model::Train(records_, 50000);
    return Resolve(records_, model, ResolverOptions{}, 2);
  }
  bool Together(const Resolution& r, size_t a, size_t b) { return r.cluster[a] == r.cluster[b]; }
  std::vector<PersonRecord> records_;
  size_t first_extra_ = 0;
};

TEST_F(ResolverTest, VariantsOfOnePersonJoin) {
  Resolution r = Run({});
  int joined = 0;
  for (size_t i = 0; i + 1 < records_.size(); i += 2) joined += Together(r, i, i + 1);
  EXPECT_GE(joined, 195);
  // And different people stay apart.
  EXPECT_FALSE(Together(r, 0, 2));
}

TEST_F(ResolverTest, TwinsSharingEverythingButTheirGivenNameNeverJoin) {
  PersonRecord daan = Person("daan", "de boer", "1990-05-05", "fam.deboer@example.nl", "9999ZZ", "7");
  daan.phone = "+31201234567";
  PersonRecord bram = daan;
  bram.given = "bram";
  // Whatever weights a model learns, the guard alone forbids this pair.
  EXPECT_TRUE(Vetoed(daan, bram, Compare(daan, bram)));
  Resolution r = Run({daan, bram});
  EXPECT_FALSE(Together(r, first_extra_, first_extra_ + 1));
}

TEST_F(ResolverTest, AGivenNameWithItsLettersScrambledIsATypoNotATwin) {
  PersonRecord oliver = Person("oliver", "miller", "2002-05-21", "oliver.miller@example.com", "5555AB", "4");
  PersonRecord typo = oliver;
  typo.given = "oievr";  // one letter left out, two others swapped
  ASSERT_EQ(Compare(oliver, typo).level[kGiven], 3);
  EXPECT_FALSE(Vetoed(oliver, typo, Compare(oliver, typo)));
  oliver.given = "isaac";
  typo.given = "icsac";
  ASSERT_EQ(Compare(oliver, typo).level[kGiven], 3);
  EXPECT_FALSE(Vetoed(oliver, typo, Compare(oliver, typo)));
  // Twins' names sharing most of their letters are still two people, and so are names
  // of the same letters.
  for (const auto& [x, y] : std::vector<std::pair<std::string, std::string>>{
           {"lars", "lisa"}, {"daan", "sanne"}, {"sem", "mes"}, {"noor", "roos"}, {"ilse", "lies"}, {"anne", "enna"}}) {
    PersonRecord a = oliver, b = oliver;
    a.given = x;
    b.given = y;
    EXPECT_TRUE(Vetoed(a, b, Compare(a, b))) << x << " " << y;
  }
  PersonRecord ilse = Person("ilse", "de boer", "1990-05-05", "fam.deboer@example.nl", "9999ZZ", "7");
  PersonRecord lies = ilse;
  lies.given = "lies";
  Resolution r = Run({ilse, lies});
  EXPECT_FALSE(Together(r, first_extra_, first_extra_ + 1));
}

TEST_F(ResolverTest, HouseholdSharingAnEmailNeverJoins) {
  Resolution r = Run({Person("kees", "dekker", "1961-02-03", "familie.dekker@example.nl", "8888YY", "3"),
                      Person("kees", "dekker", "1989-11-30", "familie.dekker@example.nl", "8888YY", "3")});
  EXPECT_FALSE(Together(r, first_extra_, first_extra_ + 1));
}

TEST_F(ResolverTest, SwappedGivenAndFamilyNamesStillJoin) {
  Resolution r = Run({Person("femke", "kuipers", "1977-07-07", "femke@k.nl", "7777XX", "9"),
                      Person("kuipers", "femke", "1977-07-07", "femke@k.nl", "7777XX", "9")});
  EXPECT_TRUE(Together(r, first_extra_, first_extra_ + 1));
}

TEST_F(ResolverTest, SwappedNamesCompareCrosswiseUpToATypo) {
  PersonRecord a = Person("erin", "matthews", "1996-05-29");
  PersonRecord b = Person("matthe ws", "erin", "1996-05-29");
  const Comparison c = Compare(a, b);
  EXPECT_EQ(c.level[kGiven], 0);
  EXPECT_EQ(c.level[kFamily], 1);
  EXPECT_EQ(VetoOf(a, b, c), Veto::kNone);
  // Unrelated names stay a disagreement.
  b = Person("bram", "visser", "1996-05-29");
  EXPECT_EQ(Compare(a, b).level[kGiven], 3);
  EXPECT_EQ(Compare(a, b).level[kFamily], 3);
}

TEST_F(ResolverTest, EqualStrongIdOverridesTheGuard) {
  PersonRecord a = Person("johanna", "kok", "1950-01-01", "", "6666WW", "1");
  PersonRecord b = Person("hanneke", "kok", "1950-01-01", "", "6666WW", "1");
  a.strong_id = b.strong_id = "K-123456";
  Comparison c = Compare(a, b);
  EXPECT_FALSE(Vetoed(a, b, c));
  b.strong_id = "K-999999";
  EXPECT_TRUE(Vetoed(a, b, Compare(a, b)));
  // Not even an equal number joins clearly different dates of birth.
  b.strong_id = a.strong_id;
  b.dob = "1975-06-30";
  EXPECT_TRUE(Vetoed(a, b, Compare(a, b)));
}

TEST_F(ResolverTest, NationalIdDecidesAndForgivesOneTypo) {
  PersonRecord a = Person("ella", "burnell", "1936-03-19", "", "4558AA", "30");
  PersonRecord b = Person("sara", "burnell", "1936-03-19", "", "4558AA", "30");
  ASSERT_TRUE(Vetoed(a, b, Compare(a, b)));  // twins, as far as anyone can tell
  a.national_id = b.national_id = "9860719";
  EXPECT_EQ(Compare(a, b).level[kNationalId], 0);
  EXPECT_FALSE(Vetoed(a, b, Compare(a, b)));
  // One digit substituted, or two neighbours swapped: a typo, still one person.
  b.national_id = "9860779";
  EXPECT_EQ(Compare(a, b).level[kNationalId], 1);
  EXPECT_FALSE(Vetoed(a, b, Compare(a, b)));
  b.national_id = "9806719";
  EXPECT_EQ(Compare(a, b).level[kNationalId], 1);
  // It decides even against a clearly different date of birth: two checksummed numbers
  // (the BSN) are never one typo apart, so that date is the typo.
  b.dob = "1975-06-30";
  EXPECT_FALSE(Vetoed(a, b, Compare(a, b)));
  // Two typos apart still outweighs different given names ...
  b = a;
  b.given = "sara";
  b.national_id = "9866799";
  EXPECT_EQ(Compare(a, b).level[kNationalId], 2);
  EXPECT_FALSE(Vetoed(a, b, Compare(a, b)));
  // ... but not a date a generation away.
  b.dob = "1975-06-30";
  EXPECT_TRUE(Vetoed(a, b, Compare(a, b)));
  // Two typos among the last three digits are neighbouring numbers, handed out together
  // (twins registered on one day): another number, which alone vetoes nothing.
  b = a;
  b.given = "sara";
  b.national_id = "9860728";
  EXPECT_EQ(Compare(a, b).level[kNationalId], 3);
  EXPECT_TRUE(Vetoed(a, b, Compare(a, b)));
  // And a name, home and national id a typo apart is personal evidence without a date.
  b = a;
  b.dob.clear();
  b.national_id = "9860779";
  EXPECT_TRUE(PersonalEvidence(a, b, Compare(a, b)));
  b.national_id = "1234567";
  EXPECT_FALSE(PersonalEvidence(a, b, Compare(a, b)));
}

TEST_F(ResolverTest, DatesTwoTyposApartAreCloseNotDifferent) {
  PersonRecord a = Person("harvey", "robertson", "1996-03-25", "harvey@r.com");
  PersonRecord b = a;
  b.dob = "1997-03-24";
  EXPECT_EQ(Compare(a, b).level[kDob], 2);
  EXPECT_FALSE(Vetoed(a, b, Compare(a, b)));
  b.dob = "1969-03-25";  // a parent of the same name
  EXPECT_EQ(Compare(a, b).level[kDob], 3);
  EXPECT_TRUE(Vetoed(a, b, Compare(a, b)));
  // Two neighbours swapped is a typo when it does not make another valid date a
  // generation away: "19550309" typed "19505309" (month 53).
  a.dob = "19550309";
  b.dob = "19505309";
  EXPECT_EQ(Compare(a, b).level[kDob], 1);
  EXPECT_FALSE(Vetoed(a, b, Compare(a, b)));
  b.dob = "19550390";  // day 90
  EXPECT_EQ(Compare(a, b).level[kDob], 1);
}

TEST_F(ResolverTest, DatesAMonthApartAreCloseAcrossMonthEnds) {
  PersonRecord a = Person("jacob", "riley", "2012-10-01");
  PersonRecord b = a;
  b.dob = "2012-09-30";  // four characters differ, one day apart
  EXPECT_EQ(Compare(a, b).level[kDob], 2);
  b.dob = "20121031";  // FEBRL writes dates without dashes
  a.dob = "20121101";
  EXPECT_EQ(Compare(a, b).level[kDob], 2);
  b.dob = "20121215";  // six weeks
  EXPECT_EQ(Compare(a, b).level[kDob], 3);
}

TEST_F(ResolverTest, AWrongDateOfBirthDoesNotSeparateAWholeName) {
  // The same whole name and e-mail, the dates ten years apart: one person's date typed
  // wrong (a namesake parent is a generation away, a sibling has another given name).
  PersonRecord a = Person("florence", "brown", "2002-02-25", "fb@reese.com");
  PersonRecord b = Person("florence", "brown", "1992-02-28", "fb@reese.com");
  Comparison c = Compare(a, b);
  ASSERT_EQ(c.level[kDob], 3);
  EXPECT_EQ(VetoOf(a, b, c), Veto::kNone);
  EXPECT_TRUE(PersonalEvidence(a, b, c));
  // Without a family name on one side the given name still agrees ...
  PersonRecord no_family = b;
  no_family.family.clear();
  EXPECT_EQ(VetoOf(a, no_family, Compare(a, no_family)), Veto::kNone);
  // ... but not without a given name: "Brown, 1992" at Florence's address is anyone of
  // the household.
  PersonRecord no_given = b;
  no_given.given.clear();
  EXPECT_EQ(VetoOf(a, no_given, Compare(a, no_given)), Veto::kDoubt);
  // A generation apart: a parent and a child of one name, whatever else they share.
  b.dob = "1977-02-25";
  EXPECT_EQ(VetoOf(a, b, Compare(a, b)), Veto::kTwoPeople);
  // And a whole name with a date missing is no personal evidence: the namesake parent
  // of the same home may be the one without a date.
  b.dob.clear();
  b.email.clear();
  EXPECT_FALSE(PersonalEvidence(a, b, Compare(a, b)));
}

TEST_F(ResolverTest, GarbledGivenNamesDoubtButTwinsAreTwoPeople) {
  PersonRecord a = Person("george", "davies", "2004-06-23", "gdavies72@example.com");
  PersonRecord b = a;
  b.given = "eorgge";
  ASSERT_EQ(Compare(a, b).level[kGiven], 3);
  EXPECT_EQ(VetoOf(a, b, Compare(a, b)), Veto::kDoubt);
  EXPECT_TRUE(Vetoed(a, b, Compare(a, b)));  // the pair alone never joins
  // The same first letter and nearly the same letters: one name scrambled, no doubt.
  b.given = "gergge";
  ASSERT_EQ(Compare(a, b).level[kGiven], 3);
  EXPECT_EQ(VetoOf(a, b, Compare(a, b)), Veto::kNone);
  b.given = "bram";
  EXPECT_EQ(VetoOf(a, b, Compare(a, b)), Veto::kTwoGivenNames);
}

TEST_F(ResolverTest, ADoubtfulRecordJoinsThroughItsClusterButTwinsDoNot) {
  // Three records of one person: the third has a garbled family name and a date a year
  // off the first's, so it doubts the first, but it matches the second closely. The doubt forbids
  // only the pair; the person is one cluster.
  PersonRecord first = Person("arlo", "west", "2007-02-17", "aw@example.com", "5611AA", "8");
  PersonRecord second = Person("arlo", "west", "2008-03-16", "aw@example.com", "5611AA", "8");
  PersonRecord third = Person("aarlo", "swt", "2008-03-16", "aw@example.com", "5611AA", "8");
  ASSERT_EQ(VetoOf(first, third, Compare(first, third)), Veto::kDoubt);
  ASSERT_EQ(VetoOf(second, third, Compare(second, third)), Veto::kNone);
  Resolution r = Resolve({first, second, third}, Model::Default(), ResolverOptions{}, 1);
  EXPECT_EQ(r.cluster[0], r.cluster[1]);
  EXPECT_EQ(r.cluster[1], r.cluster[2]);
  // A twin instead of the third record: clearly someone else than both, never joined.
  PersonRecord twin = Person("bram", "west", "2007-02-17", "aw@example.com", "5611AA", "8");
  r = Resolve({first, second, twin}, Model::Default(), ResolverOptions{}, 1);
  EXPECT_NE(r.cluster[2], r.cluster[0]);
}

TEST_F(ResolverTest, OneReplacedGivenNameDoesNotKeepAPersonsRecordsApart) {
  // Two clusters of one person; one record of the second has another given name (a
  // source's error). Against the first cluster, its pairs are a minority: they join.
  PersonRecord a1 = Person("chelsea", "colquhoun", "1969-02-20", "", "2800AA", "22");
  PersonRecord a2 = a1, b1 = a1, b2 = a1, b3 = a1;
  a2.street = "tillyard drive";
  b3.city = "noarlunga downs";
  b2.given = "eboni";
  EXPECT_FALSE(GroupsClash(a1, b1, {&a1, &a2}, {&b1, &b2, &b3}));
  // Half of the pairs is too many: it might as well be the other person.
  EXPECT_TRUE(GroupsClash(a1, b1, {&a1, &a2}, {&b1, &b2}));
  // Twins: every pair across says two people.
  PersonRecord t1 = b2, t2 = b2;
  EXPECT_TRUE(GroupsClash(a1, t1, {&a1, &a2}, {&t1, &t2}));
  // Records without a given name do not dilute that.
  PersonRecord nameless1 = a1, nameless2 = a1;
  nameless1.given.clear();
  nameless2.given.clear();
  EXPECT_TRUE(GroupsClash(a1, t1, {&a1, &nameless1, &nameless2}, {&t1}));
  // A hard contradiction anywhere forbids the join: different customer numbers ...
  PersonRecord k1 = a1, k2 = a1;
  k1.strong_id = "K0005920";
  k2.strong_id = "K0005921";
  EXPECT_TRUE(GroupsClash(a1, b1, {&a1, &a2, &k1}, {&b1, &k2}));
  // ... or dates of birth a generation apart.
  PersonRecord parent = a1;
  parent.dob = "1941-02-20";
  EXPECT_TRUE(GroupsClash(a1, b1, {&a1, &a2}, {&b1, &parent}));
  // An equal national id on the joining pair decides.
  a1.national_id = b1.national_id = "2401777";
  EXPECT_FALSE(GroupsClash(a1, b1, {&a1, &a2}, {&b1, &parent}));
}

TEST_F(ResolverTest, SharedContactsAreThoseOfDifferentGivenNames) {
  PersonRecord kees = Person("kees", "dekker", "1961-02-03", "familie.dekker@example.nl");
  PersonRecord ria = Person("ria", "dekker", "1963-04-05", "familie.dekker@example.nl");
  PersonRecord kees_again = Person("kees", "dekker", "1961-02-03", "kees@example.nl");
  kees_again.phone = ria.phone = "+31612345678";
  const std::vector<const PersonRecord*> around = {&kees, &ria, &kees_again};
  EXPECT_THAT(SharedContacts(around),
              ::testing::UnorderedElementsAre("efamilie.dekker@example.nl", "p+31612345678"));
  // Only the contacts of one record: Kees' own e-mail is his alone, the phone is not.
  EXPECT_THAT(SharedContacts(around, &kees_again), ::testing::ElementsAre("p+31612345678"));
  EXPECT_THAT(SharedContacts(around, &kees), ::testing::ElementsAre("efamilie.dekker@example.nl"));
}

TEST_F(ResolverTest, ANearDateWithAContactOfTheirOwnIsPersonal) {
  // No given name on one side; the family name, an e-mail no one else uses and dates a
  // month apart (one typed wrong) say it is Emily.
  PersonRecord emily = Person("emily", "atkinson", "2017-05-03", "emilya@example.com");
  PersonRecord nameless = Person("", "atkinson", "2017-06-02", "emilya@example.com");
  Comparison c = Compare(emily, nameless);
  ASSERT_EQ(c.level[kDob], 2);
  EXPECT_TRUE(PersonalEvidence(nameless, emily, c));
  // The same e-mail used by two given names is a household's: then it is no evidence.
  EXPECT_FALSE(PersonalEvidence(nameless, emily, c, {"eemilya@example.com"}));
  // A long name typed badly twice is no second person using the e-mail.
  PersonRecord george = Person("george", "davies", "2005-07-23", "gdavies@example.com");
  PersonRecord garbled = Person("gergge", "davies", "2004-06-23", "gdavies@example.com");
  ASSERT_EQ(Compare(george, garbled).level[kGiven], 3);
  EXPECT_THAT(SharedContacts({&george, &garbled}), ::testing::IsEmpty());
  PersonRecord sister = Person("sophie", "atkinson", "2015-01-09", "emilya@example.com");
  EXPECT_THAT(SharedContacts({&emily, &sister, &nameless}), ::testing::ElementsAre("eemilya@example.com"));
}

TEST_F(ResolverTest, OnePersonsOwnWritingsDoNotMakeAContactAHouseholds) {
  PersonRecord crm = Person("jasper dennis", "dekker", "2007-01-01", "jasper_dekker@example.nl");
  PersonRecord typo = Person("jnsper", "dekker", "2007-01-01", "jasper_dekker@example.nl");
  PersonRecord swapped = Person("dekker", "jasper", "", "jasper_dekker@example.nl");
  ASSERT_EQ(Compare(crm, typo).level[kGiven], 3);
  EXPECT_FALSE(ClearlyTwoPeople(VetoOf(crm, typo, Compare(crm, typo))));
  EXPECT_THAT(SharedContacts({&crm, &typo, &swapped}), ::testing::IsEmpty());
  // A sister on the same e-mail makes it the household's.
  PersonRecord sister = Person("sanne", "dekker", "2009-03-04", "jasper_dekker@example.nl");
  EXPECT_THAT(SharedContacts({&crm, &typo, &swapped, &sister}), ::testing::ElementsAre("ejasper_dekker@example.nl"));
}

TEST_F(ResolverTest, InitialsAtAHomeJoinOnlyWhenTwoAgreeAndOnePersonFits) {
  // Billing writes initials; the home is all that links them.
  PersonRecord full = Person("marloes lieke", "bruin", "1957-11-27", "mbruin@example.nl", "6766ER", "173");
  PersonRecord initials = Person("m l", "bruin", "", "", "6766ER", "173");
  EXPECT_TRUE(HouseholdEvidenceSuffices(full, initials, 1));
  EXPECT_FALSE(HouseholdEvidenceSuffices(full, initials, 2));  // fits two people: review
  PersonRecord one = Person("m", "bruin", "", "", "6766ER", "173");
  EXPECT_FALSE(HouseholdEvidenceSuffices(full, one, 1));  // one initial: review
  // The model trained on Dutch data (the toy population here is too small to train one
  // that trusts a home).
  auto together = [&](std::vector<PersonRecord> records) {
    Resolution r = Resolve(records, Model::Default(), ResolverOptions{}, 1);
    return r.cluster[0] == r.cluster[1];
  };
  EXPECT_TRUE(together({full, initials}));
  EXPECT_FALSE(together({full, one}));
  // "m l" fits Marloes Lieke and the "m" who may be someone else: a person decides.
  EXPECT_FALSE(together({full, initials, one}));
}

TEST_F(ResolverTest, ClustersStopGrowingAtTheLimit) {
  std::vector<PersonRecord> same;
  for (int i = 0; i < 14; ++i) same.push_back(Person("wim", "groot", "1944-04-04", "wim@groot.nl", "5555VV", "2"));
  records_ = same;
  Model model = Model::Train(records_, 1000);
  ResolverOptions options;
  options.max_cluster_size = 10;
  // The model has no contrast on identical records; any positive evidence links.
  options.link_probability = 0.0;
  options.review_probability = 0.0;
  Resolution r = Resolve(records_, model, options);
  int largest = 0;
  std::vector<int> size(records_.size());
  for (uint32_t c : r.cluster) largest = std::max(largest, ++size[c]);
  EXPECT_EQ(largest, 10);
  EXPECT_FALSE(r.review.empty());
  EXPECT_EQ(r.review[0].reason, ScoredPair::kClusterTooLarge);
}

}  // namespace
}  // namespace cdp::resolution
