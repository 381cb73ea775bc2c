// The profile service's cache of golden records with a fake ingest service and a clock
// that moves only when told.
#include "services/profile/profile_cache.h"

#include <functional>
#include <map>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "tests/testing/status_matchers.h"

namespace cdp::profile {
namespace {

using ::cdp::testing::IsOk;

class FakeSource : public ProfileSource {
 public:
  void GetManyAsync(std::vector<std::string> ids, Done<ProfileAnswers> done) override {
    ++calls;
    if (during_fetch) during_fetch();
    ProfileAnswers out;
    for (const std::string& id : ids) {
      auto it = profiles.find(id);
      if (it == profiles.end()) {
        out.push_back(absl::NotFoundError("profile_id: no such profile"));
      } else {
        out.push_back(std::make_shared<const v1::UnifiedProfile>(it->second));
      }
    }
    std::move(done)(std::move(out));
  }
  absl::StatusOr<v1::FindProfilesResponse> Find(const v1::FindProfilesRequest&) override {
    return v1::FindProfilesResponse();
  }
  void Set(const std::string& id, const std::string& email, std::vector<std::string> merged = {},
           const std::string& root = "") {
    v1::UnifiedProfile p;
    p.set_profile_id(root.empty() ? id : root);
    for (auto& m : merged) p.add_merged_profile_ids(m);
    auto* f = p.add_fields();
    f->set_field("email");
    f->set_value(email);
    profiles[id] = p;
  }
  int calls = 0;
  std::map<std::string, v1::UnifiedProfile> profiles;
  std::function<void()> during_fetch;
};

class ProfileCacheTest : public ::testing::Test {
 protected:
  ProfileCacheTest() : cache_(source_, {.staleness_bound = absl::Milliseconds(100), .now = [this] { return now_; }}) {
    cache_.OnChanges(1, {});  // the feed is current
  }
  std::string Email(const std::string& id) {
    auto p = cache_.Get(id);
    EXPECT_THAT(p.status(), IsOk());
    return p.ok() ? (*p)->fields(0).value() : "";
  }
  absl::Time now_ = absl::FromUnixSeconds(1790000000);
  FakeSource source_;
  CachingProfileSource cache_;
};

TEST_F(ProfileCacheTest, ASecondReadIsAnsweredFromMemory) {
  source_.Set("p-1", "a@example.nl");
  EXPECT_EQ(Email("p-1"), "a@example.nl");
  EXPECT_EQ(Email("p-1"), "a@example.nl");
  EXPECT_EQ(source_.calls, 1);
  EXPECT_EQ(cache_.stats().hits, 1);
}

TEST(ProfileCacheCapacityTest, AFullCacheMakesRoomByDroppingItsOldestEntries) {
  FakeSource source;
  CachingProfileSource cache(source, {.max_entries = 3});
  cache.OnChanges(1, {});
  for (const char* id : {"p-1", "p-2", "p-3", "p-4", "p-5"}) source.Set(id, absl::StrCat(id, "@example.nl"));
  auto read = [&](const char* id) { ASSERT_THAT(cache.Get(id).status(), IsOk()); };
  read("p-1");
  read("p-2");
  read("p-3");
  cache.OnChanges(2, {"p-2"});  // dropped by a change: its place in the queue is empty
  read("p-2");                  // kept again, now the newest
  read("p-4");                  // full: p-1, the oldest, makes room
  read("p-5");                  // and then p-3
  ASSERT_EQ(source.calls, 6);
  read("p-2");
  read("p-4");
  read("p-5");
  EXPECT_EQ(source.calls, 6);  // the three newest are still kept
  read("p-1");
  EXPECT_EQ(source.calls, 7);
  EXPECT_EQ(cache.stats().hits, 3);
}

TEST_F(ProfileCacheTest, AChangeToAnyPartOfAProfileDropsIt) {
  // p-root has p-old merged into it; a read by the merged-away id is kept too.
  source_.Set("p-root", "a@example.nl", {"p-old"});
  source_.Set("p-old", "a@example.nl", {"p-old"}, "p-root");
  Email("p-root");
  Email("p-old");
  source_.Set("p-root", "b@example.nl");  // unmerged: p-old lives on its own again
  source_.Set("p-old", "old@example.nl");
  cache_.OnChanges(2, {"p-old"});
  EXPECT_EQ(Email("p-root"), "b@example.nl");
  EXPECT_EQ(Email("p-old"), "old@example.nl");
  EXPECT_EQ(source_.calls, 4);
}

TEST_F(ProfileCacheTest, WithoutACurrentFeedEveryReadGoesToTheIngestService) {
  source_.Set("p-1", "a@example.nl");
  Email("p-1");
  now_ += absl::Milliseconds(101);  // no heartbeat for longer than the bound
  source_.Set("p-1", "b@example.nl");
  EXPECT_EQ(Email("p-1"), "b@example.nl");
  EXPECT_EQ(Email("p-1"), "b@example.nl");
  EXPECT_EQ(source_.calls, 3);
  EXPECT_EQ(cache_.stats().bypassed, 2);
  cache_.OnChanges(2, {"p-1"});  // heard again; the change is applied
  EXPECT_EQ(Email("p-1"), "b@example.nl");
}

TEST_F(ProfileCacheTest, ARecordReadWhileAChangeArrivedIsNotKept) {
  source_.Set("p-1", "a@example.nl");
  source_.during_fetch = [this] { cache_.OnChanges(2, {"p-1"}); };  // the change lands mid-read
  Email("p-1");
  source_.during_fetch = nullptr;
  source_.Set("p-1", "b@example.nl");
  EXPECT_EQ(Email("p-1"), "b@example.nl");
}

TEST(ProfileCacheMetricsTest, ReadsAreCountedByOutcome) {
  FakeSource source;
  source.Set("p-1", "a@example.nl");
  auto registry = std::make_shared<prometheus::Registry>();
  absl::Time now = absl::FromUnixSeconds(1790000000);
  CachingProfileSource cache(source, {.now = [&] { return now; }, .registry = registry.get()});
  cache.OnChanges(1, {});
  ASSERT_THAT(cache.Get("p-1").status(), IsOk());
  ASSERT_THAT(cache.Get("p-1").status(), IsOk());
  now += absl::Seconds(1);
  ASSERT_THAT(cache.Get("p-1").status(), IsOk());
  std::map<std::string, double> counted;
  for (const auto& family : registry->Collect()) {
    if (family.name != "cdp_profile_cache_reads_total") continue;
    for (const auto& m : family.metric) counted[m.label[0].value] = m.counter.value;
  }
  EXPECT_EQ(counted["hit"], 1);
  EXPECT_EQ(counted["miss"], 1);
  EXPECT_EQ(counted["bypassed"], 1);
}

TEST_F(ProfileCacheTest, UnknownProfilesAreNotKeptAndALostFeedEmptiesTheCache) {
  EXPECT_FALSE(cache_.Get("p-none").ok());
  source_.Set("p-none", "n@example.nl");
  EXPECT_EQ(Email("p-none"), "n@example.nl");
  cache_.OnFeedLost();
  source_.Set("p-none", "m@example.nl");
  cache_.OnChanges(3, {});
  EXPECT_EQ(Email("p-none"), "m@example.nl");
}

}  // namespace
}  // namespace cdp::profile
