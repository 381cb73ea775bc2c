// The in-memory matching index: versions, blocking, merge trees and erasure.
#include "services/ingest/match_index.h"

#include "gtest/gtest.h"

namespace cdp::ingest {
namespace {

resolution::PersonRecord Person(std::string given, std::string family, std::string email) {
  resolution::PersonRecord p;
  p.given = std::move(given);
  p.family = std::move(family);
  p.email = std::move(email);
  return p;
}

std::vector<std::string> Ids(const std::vector<const MatchIndex::Entry*>& entries) {
  std::vector<std::string> out;
  for (const auto* e : entries) out.push_back(e->source + "/" + e->id);
  std::sort(out.begin(), out.end());
  return out;
}

TEST(MatchIndexTest, FindsRecordsByAnyVersionsKeysAndKeepsTheLatestPerson) {
  MatchIndex index;
  index.AddVersion("crm", "c1", 100, "p-a", Person("jan", "berg", "old@example.nl"));
  index.AddVersion("crm", "c1", 200, "p-a", Person("jan", "berg", "new@example.nl"));
  index.AddVersion("crm", "c1", 150, "p-a", Person("jan", "berg", "middle@example.nl"));  // late arrival
  const MatchIndex::Entry* e = index.Find("crm", "c1");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->latest, 200);
  EXPECT_EQ(e->person.email, "new@example.nl");
  EXPECT_EQ(e->versions.size(), 3u);
  // Found by its old e-mail as well as by its new one, once.
  EXPECT_EQ(Ids(index.Candidates({"eold@example.nl", "enew@example.nl"}, {})),
            std::vector<std::string>{"crm/c1"});
  EXPECT_TRUE(index.Candidates({"enobody@example.nl"}, {}).empty());
  EXPECT_EQ(index.Find("crm", "c2"), nullptr);
  EXPECT_EQ(index.Find("webshop", "c1"), nullptr);
}

TEST(MatchIndexTest, SkipsBlocksTooCommonToTellAnything) {
  MatchIndex index;
  for (int i = 0; i < 5; ++i) {
    index.AddVersion("crm", std::to_string(i), 1, "p-" + std::to_string(i), Person("a", "b", "shared@x.nl"));
  }
  EXPECT_EQ(index.Candidates({"eshared@x.nl"}, {.max = 5}).size(), 5u);
  EXPECT_TRUE(index.Candidates({"eshared@x.nl"}, {.max = 4}).empty());
}

// A name or a date of birth is shared by more people the more there are: their blocks
// stop at a lower limit than an e-mail address's, which a household shares at most.
TEST(MatchIndexTest, NameAndBirthDateBlocksStopSooner) {
  MatchIndex index;
  for (int i = 0; i < 5; ++i) {
    index.AddVersion("crm", std::to_string(i), 1, "p-" + std::to_string(i), Person("jan", "berg", "shared@x.nl"));
  }
  const std::vector<std::string> keys = resolution::BlockingKeys(Person("jan", "berg", "other@x.nl"));
  const auto name = std::find_if(keys.begin(), keys.end(), [](const std::string& k) { return k[0] == 'n'; });
  ASSERT_NE(name, keys.end());
  const std::string name_key = *name;
  EXPECT_EQ(index.Candidates({name_key}, {.max = 100, .max_common = 5}).size(), 5u);
  EXPECT_TRUE(index.Candidates({name_key}, {.max = 100, .max_common = 4}).empty());
  EXPECT_EQ(index.Candidates({"eshared@x.nl"}, {.max = 100, .max_common = 4}).size(), 5u);
  // The lower of the two holds for a common key.
  EXPECT_TRUE(index.Candidates({name_key}, {.max = 4, .max_common = 10}).empty());
}

TEST(MatchIndexTest, ManyVersionsOfFewRecordsDoNotFillABlock) {
  // Two household members updated in turn: their shared key holds two records, not the
  // hundreds of versions they sent.
  MatchIndex index;
  for (int v = 1; v <= 300; ++v) {
    index.AddVersion("crm", "a", v, "p-a", Person("anna", "smit", "home@x.nl"));
    index.AddVersion("crm", "b", v, "p-b", Person("bert", "smit", "home@x.nl"));
  }
  EXPECT_EQ(Ids(index.Candidates({"ehome@x.nl"}, {})), (std::vector<std::string>{"crm/a", "crm/b"}));
}

TEST(MatchIndexTest, MergesAndUnmergesMoveWholeProfiles) {
  MatchIndex index;
  index.AddVersion("crm", "c1", 1, "p-a", Person("jan", "berg", "a@x.nl"));
  index.AddVersion("webshop", "w1", 1, "p-b", Person("jan", "berg", "b@x.nl"));
  index.AddVersion("billing", "b1", 1, "p-c", Person("jan", "berg", "c@x.nl"));
  index.SetProfile("p-b", "p-a", false);
  index.SetProfile("p-c", "p-b", false);  // a merge into a merged profile: a chain
  EXPECT_EQ(index.Root("p-c"), "p-a");
  EXPECT_EQ(Ids(index.Members("p-a")), (std::vector<std::string>{"billing/b1", "crm/c1", "webshop/w1"}));
  index.SetProfile("p-b", "", false);  // unmerged: p-b takes p-c along
  EXPECT_EQ(index.Root("p-c"), "p-b");
  EXPECT_EQ(Ids(index.Members("p-a")), std::vector<std::string>{"crm/c1"});
  EXPECT_EQ(Ids(index.Members("p-b")), (std::vector<std::string>{"billing/b1", "webshop/w1"}));
}

TEST(MatchIndexTest, AnErasedProfileLeavesMemoryAndMatching) {
  MatchIndex index;
  index.AddVersion("crm", "c1", 1, "p-a", Person("jan", "berg", "a@x.nl"));
  index.SetProfile("p-a", "", true);
  EXPECT_TRUE(index.Erased("p-a"));
  EXPECT_TRUE(index.Candidates({"ea@x.nl"}, {}).empty());
  EXPECT_TRUE(index.Members("p-a").empty());
  // Its personal data is gone from memory; only that the record existed remains.
  ASSERT_NE(index.Find("crm", "c1"), nullptr);
  EXPECT_TRUE(index.Find("crm", "c1")->person.given.empty());
  EXPECT_TRUE(index.Find("crm", "c1")->person.email.empty());
  // Versions arriving later (stored before the erasure) do not bring it back.
  index.AddVersion("crm", "c1", 2, "p-a", Person("jan", "berg", "a2@x.nl"));
  EXPECT_TRUE(index.Find("crm", "c1")->person.email.empty());
  EXPECT_TRUE(index.Candidates({"ea2@x.nl"}, {}).empty());
}

// Everything a lookup can see of the index, to compare states.
std::string Dump(const MatchIndex& index, const std::vector<std::string>& refs, const std::vector<std::string>& keys) {
  std::string out = "records " + std::to_string(index.records()) + "\n";
  for (const std::string& ref : refs) {
    const auto slash = ref.find('/');
    const MatchIndex::Entry* e = index.Find(ref.substr(0, slash), ref.substr(slash + 1));
    if (e == nullptr) {
      out += ref + " -\n";
      continue;
    }
    out += ref + " " + e->owner + " " + std::to_string(e->latest) + " " + e->person.email + " versions " +
           std::to_string(e->versions.size()) + " keys " + std::to_string(e->keys.size()) + "\n";
  }
  for (const std::string& k : keys) {
    out += k;
    for (const std::string& id : Ids(index.Candidates({k}, {}))) out += " " + id;
    out += "\n";
  }
  for (const std::string& p : {"p-a", "p-b", "p-new"}) {
    out += p;
    for (const std::string& id : Ids(index.Members(p))) out += " " + id;
    out += "\n";
  }
  return out;
}

TEST(MatchIndexTest, RollingBackProvisionalVersionsRestoresTheIndexExactly) {
  MatchIndex index;
  index.AddVersion("crm", "c1", 100, "p-a", Person("jan", "berg", "jan@x.nl"));
  index.AddVersion("crm", "c2", 100, "p-b", Person("els", "berg", "els@x.nl"));
  const std::vector<std::string> refs = {"crm/c1", "crm/c2", "web/w1", "web/w2"};
  const std::vector<std::string> keys = {"ejan@x.nl", "eels@x.nl", "enew@x.nl", "eshared@x.nl"};
  const std::string before = Dump(index, refs, keys);

  // A newer version of c1 with a new e-mail, an older one of c2, two new records (one
  // of a new profile), and a repeat of a version already there.
  index.AddVersion("crm", "c1", 200, "p-a", Person("jan", "berg", "new@x.nl"), true);
  index.AddVersion("crm", "c2", 50, "p-b", Person("els", "berg", "shared@x.nl"), true);
  index.AddVersion("web", "w1", 300, "p-a", Person("jan", "berg", "shared@x.nl"), true);
  index.AddVersion("web", "w2", 300, "p-new", Person("piet", "berg", "shared@x.nl"), true);
  index.AddVersion("crm", "c1", 100, "p-a", Person("jan", "berg", "jan@x.nl"), true);
  EXPECT_TRUE(index.has_provisional());
  EXPECT_EQ(index.Find("crm", "c1")->person.email, "new@x.nl");
  EXPECT_EQ(Ids(index.Candidates({"eshared@x.nl"}, {})), (std::vector<std::string>{"crm/c2", "web/w1", "web/w2"}));
  EXPECT_NE(Dump(index, refs, keys), before);

  index.RollBack();
  EXPECT_FALSE(index.has_provisional());
  EXPECT_EQ(Dump(index, refs, keys), before);
  // And it takes new versions afterwards as before.
  index.AddVersion("web", "w1", 300, "p-a", Person("jan", "berg", "shared@x.nl"));
  EXPECT_EQ(Ids(index.Members("p-a")), (std::vector<std::string>{"crm/c1", "web/w1"}));
}

TEST(MatchIndexTest, SettledVersionsStayWhenLaterOnesAreRolledBack) {
  MatchIndex index;
  index.AddVersion("crm", "c1", 100, "p-a", Person("jan", "berg", "jan@x.nl"), true);
  const uint64_t first_batch = index.provisional_end();
  index.AddVersion("crm", "c2", 100, "p-b", Person("els", "berg", "els@x.nl"), true);
  index.Settle(first_batch);
  index.RollBack();
  EXPECT_NE(index.Find("crm", "c1"), nullptr);
  EXPECT_EQ(index.Find("crm", "c2"), nullptr);
  EXPECT_EQ(Ids(index.Candidates({"ejan@x.nl"}, {})), std::vector<std::string>{"crm/c1"});
  EXPECT_TRUE(index.Candidates({"eels@x.nl"}, {}).empty());
}

TEST(MatchIndexTest, ARollBackDoesNotBringBackWhatAnErasureCleared) {
  MatchIndex index;
  index.AddVersion("crm", "c1", 100, "p-a", Person("jan", "berg", "jan@x.nl"));
  index.AddVersion("crm", "c1", 200, "p-a", Person("jan", "berg", "new@x.nl"), true);
  index.MarkErased("p-a");  // erased while the newer version waited to be stored
  index.RollBack();
  const MatchIndex::Entry* e = index.Find("crm", "c1");
  ASSERT_NE(e, nullptr);
  EXPECT_TRUE(e->person.email.empty());
  EXPECT_TRUE(e->person.given.empty());
}

}  // namespace
}  // namespace cdp::ingest
