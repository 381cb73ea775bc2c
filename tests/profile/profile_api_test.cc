// The read path's rules with fakes around it: consent decides every field, one event per
// read is logged before anything is released, and nothing leaves when the log or consent
// cannot be trusted.
#include "services/profile/profile_api.h"

#include <map>
#include <random>
#include <set>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace cdp::profile {
namespace {

using ::cdp::testing::IsOk;
using ::cdp::testing::StatusIs;
using ::testing::HasSubstr;

const std::string kCatalog = std::string(CDP_SOURCE_DIR) + "/consent/catalog/default.textproto";
const std::string kSupport = "spiffe://cdp.local/service/support-desk";
const std::string kMarketing = "spiffe://cdp.local/service/marketing";

class FakeProfiles : public ProfileSource {
 public:
  void GetManyAsync(std::vector<std::string> ids, Done<ProfileAnswers> done) override {
    ProfileAnswers out;
    for (const std::string& id : ids) {
      auto it = profiles.find(id);
      if (it == profiles.end()) {
        out.emplace_back(absl::NotFoundError("profile_id: no such profile"));
      } else {
        out.emplace_back(std::make_shared<const v1::UnifiedProfile>(it->second));
      }
    }
    std::move(done)(std::move(out));
  }
  absl::StatusOr<v1::FindProfilesResponse> Find(const v1::FindProfilesRequest& r) override {
    v1::FindProfilesResponse out;
    for (const auto& [id, p] : profiles) {
      for (const auto& f : p.fields()) {
        if (f.field() == "email" && f.value() == r.email()) out.add_profile_ids(id);
      }
    }
    return out;
  }
  std::map<std::string, v1::UnifiedProfile> profiles;
};

class FakeLog : public AccessLogWriter {
 public:
  void AppendAsync(v1::AppendEventsRequest request, Done<v1::AppendEventsResponse> done) override {
    if (fail) return std::move(done)(absl::UnavailableError("audit down"));
    v1::AppendEventsResponse out;
    for (const auto& item : request.events()) {
      items.push_back(item);
      out.add_events()->set_event_id(absl::StrCat("ev-", items.size()));
    }
    std::move(done)(std::move(out));
  }
  bool fail = false;
  std::vector<v1::AppendEventsRequest::Item> items;
};

v1::UnifiedProfile Profile(const std::string& id, std::vector<std::string> merged = {}) {
  v1::UnifiedProfile p;
  p.set_profile_id(id);
  for (const auto& m : merged) p.add_merged_profile_ids(m);
  for (const auto& [field, value] : std::map<std::string, std::string>{
           {"given_name", "Jan"}, {"family_name", "Berg"}, {"email", "jan@example.nl"},
           {"phone_mobile", "+31612345678"}, {"date_of_birth", "1980-04-09"},
           {"postal_address", "Kerkstraat 12a, 1011AB Amsterdam"}, {"customer_number", "K1"}}) {
    auto* f = p.add_fields();
    f->set_field(field);
    f->set_value(value);
    f->mutable_lineage()->set_source_system("crm");
    f->mutable_lineage()->set_record_id("c1");
    f->mutable_lineage()->set_rule("only_source");
  }
  return p;
}

class ProfileApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto catalog = consent::Catalog::FromFile(kCatalog);
    ASSERT_THAT(catalog.status(), IsOk());
    profiles_.profiles["p-1"] = Profile("p-1");
    Use(*catalog);
    choices_["p-1"] = {};
  }
  // Reads from now on go through an API on `catalog` (the consent service's and this
  // service's alike).
  void Use(std::shared_ptr<const consent::Catalog> catalog) {
    catalog_ = std::move(catalog);
    api_ = std::make_unique<ProfileApi>(
        catalog_,
        [this](const std::string& customer, int64_t min_version) -> absl::StatusOr<consent::ConsentView> {
          if (stale_) return absl::UnavailableError("replica not current");
          auto it = choices_.find(customer);
          if (it == choices_.end()) return absl::NotFoundError("unknown customer");
          if (it->second.version < min_version) return absl::UnavailableError("older version");
          auto entry = std::make_shared<consent::ReplicaEntry>();
          entry->choices = it->second;
          entry->compiled = consent::CompiledChoices(*catalog_, it->second);
          return consent::ConsentView{catalog_, entry};
        },
        profiles_, log_, [] { return absl::FromUnixSeconds(1800000000); });
  }
  void Choose(const std::string& customer, const std::string& field, const std::string& purpose, bool allow) {
    auto& c = choices_[customer];
    ++c.version;
    c.choices.erase(std::remove_if(c.choices.begin(), c.choices.end(),
                                   [&](const consent::Choice& x) { return x.field == field && x.purpose == purpose; }),
                    c.choices.end());
    c.choices.push_back({.field = field, .purpose = purpose, .allow = allow});
  }
  v1::GetProfileRequest Request(const std::string& id, const std::string& purpose, std::vector<std::string> fields) {
    v1::GetProfileRequest r;
    r.set_profile_id(id);
    r.mutable_context()->set_purpose(purpose);
    for (const auto& f : fields) r.mutable_context()->mutable_read_mask()->add_paths(f);
    r.mutable_context()->mutable_acting_party()->set_kind(v1::ActingParty::HUMAN_AGENT);
    r.mutable_context()->mutable_acting_party()->set_id("agent-7");
    r.mutable_context()->mutable_justification()->set_code(v1::Justification::CUSTOMER_REQUEST);
    r.mutable_context()->mutable_justification()->set_reference("ticket-123");
    return r;
  }
  std::set<std::string> Withheld(const v1::ProfileView& v) {
    std::set<std::string> out;
    for (const auto& w : v.withheld()) out.insert(w.field());
    return out;
  }

  std::shared_ptr<const consent::Catalog> catalog_;
  std::map<std::string, consent::CustomerChoices> choices_;
  bool stale_ = false;
  FakeProfiles profiles_;
  FakeLog log_;
  std::unique_ptr<ProfileApi> api_;
};

TEST_F(ProfileApiTest, ReleasesWhatThePurposeMayUseAndLogsOneEventFirst) {
  auto view = api_->GetProfile(kSupport, Request("p-1", "customer-care-human", {"email", "given_name", "date_of_birth"}),
                               "req-1");
  ASSERT_THAT(view.status(), IsOk());
  ASSERT_EQ(log_.items.size(), 1u);
  const v1::AccessEvent& e = log_.items[0].event();
  EXPECT_EQ(log_.items[0].customer_id(), "p-1");
  EXPECT_EQ(e.caller(), kSupport);
  EXPECT_EQ(e.purpose(), "customer-care-human");
  EXPECT_EQ(e.legal_basis(), "contract");
  EXPECT_EQ(e.request_id(), "req-1");
  EXPECT_EQ(e.justification().reference(), "ticket-123");
  EXPECT_EQ(view->access_event_id(), "ev-1");
  // What was released is exactly what the event says was released; values never enter it.
  std::set<std::string> released(e.fields_released().begin(), e.fields_released().end());
  std::set<std::string> in_view;
  for (const auto& [k, v] : view->fields()) in_view.insert(k);
  EXPECT_EQ(released, in_view);
  EXPECT_FALSE(e.SerializeAsString().find("jan@example.nl") != std::string::npos);
}

TEST_F(ProfileApiTest, ConsentPurposesAreOffUntilChosenAndARevocationWithholdsTheNextRead) {
  auto read = [&] { return api_->GetProfile(kMarketing, Request("p-1", "direct-marketing", {"email"}), "r"); };
  auto before = read();
  ASSERT_THAT(before.status(), IsOk());
  EXPECT_TRUE(before->fields().empty());
  EXPECT_EQ(Withheld(*before), std::set<std::string>{"email"});
  EXPECT_EQ(before->withheld(0).reason(), "consent_default_off");

  Choose("p-1", "email", "direct-marketing", true);
  auto allowed = read();
  ASSERT_THAT(allowed.status(), IsOk());
  EXPECT_EQ(allowed->fields().at("email"), "jan@example.nl");
  EXPECT_EQ(allowed->consent_version(), 1);

  Choose("p-1", "email", "direct-marketing", false);
  auto revoked = read();
  ASSERT_THAT(revoked.status(), IsOk());
  EXPECT_TRUE(revoked->fields().empty());
  EXPECT_EQ(revoked->withheld(0).reason(), "customer_field_choice");
  EXPECT_EQ(log_.items.size(), 3u);
  EXPECT_EQ(log_.items[2].event().fields_withheld().at("email"), "customer_field_choice");
}

TEST_F(ProfileApiTest, APurposeTheCallerMayNotClaimIsRefusedAndTheAttemptLogged) {
  auto view = api_->GetProfile(kMarketing, Request("p-1", "customer-care-human", {"email"}), "r");
  EXPECT_THAT(view.status(), StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("customer-care-human")));
  ASSERT_EQ(log_.items.size(), 1u);
  EXPECT_TRUE(log_.items[0].event().fields_released().empty());
  EXPECT_EQ(log_.items[0].event().fields_withheld().at("email"), "purpose_not_granted_to_caller");

  // An unknown id is refused the same way (nothing to log it against): the refusal never
  // tells the caller whether the id exists.
  view = api_->GetProfile(kMarketing, Request("p-unknown", "customer-care-human", {"email"}), "r");
  EXPECT_THAT(view.status(), StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("customer-care-human")));
  v1::BatchGetProfilesRequest batch;
  batch.add_profile_ids("p-1");
  batch.add_profile_ids("p-unknown");
  *batch.mutable_context() = Request("p-1", "customer-care-human", {"email"}).context();
  EXPECT_THAT(api_->BatchGetProfiles(kMarketing, batch, "r").status(),
              StatusIs(absl::StatusCode::kPermissionDenied));
  ASSERT_EQ(log_.items.size(), 2u);  // the batch's attempt on p-1
  EXPECT_EQ(log_.items[1].customer_id(), "p-1");
}

TEST_F(ProfileApiTest, LineageOfReleasedFieldsOnlyAndOnlyWhenAsked) {
  auto r = Request("p-1", "customer-care-human", {"email", "date_of_birth"});
  auto plain = api_->GetProfile(kSupport, r, "r");
  ASSERT_THAT(plain.status(), IsOk());
  EXPECT_TRUE(plain->lineage().empty());
  r.mutable_context()->set_include_lineage(true);
  auto with = api_->GetProfile(kSupport, r, "r");
  ASSERT_THAT(with.status(), IsOk());
  ASSERT_EQ(with->lineage().count("email"), 1u);
  EXPECT_EQ(with->lineage().at("email").source_system(), "crm");
  EXPECT_EQ(with->lineage().at("email").rule(), "only_source");
  for (const auto& w : with->withheld()) EXPECT_EQ(with->lineage().count(w.field()), 0u) << w.field();
}

TEST_F(ProfileApiTest, NoDurableEventNoData) {
  log_.fail = true;
  auto view = api_->GetProfile(kSupport, Request("p-1", "customer-care-human", {"email"}), "r");
  EXPECT_THAT(view.status(), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("nothing was released")));
}

TEST_F(ProfileApiTest, StaleOrUnknownConsentReleasesNothing) {
  stale_ = true;
  EXPECT_THAT(api_->GetProfile(kSupport, Request("p-1", "customer-care-human", {"email"}), "r").status(),
              StatusIs(absl::StatusCode::kUnavailable));
  stale_ = false;
  choices_.erase("p-1");
  EXPECT_THAT(api_->GetProfile(kSupport, Request("p-1", "customer-care-human", {"email"}), "r").status(),
              StatusIs(absl::StatusCode::kUnavailable));
  // A caller that saw a newer consent version elsewhere can demand it.
  choices_["p-1"] = {};
  auto r = Request("p-1", "customer-care-human", {"email"});
  r.mutable_context()->set_min_consent_version(5);
  EXPECT_THAT(api_->GetProfile(kSupport, r, "r").status(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_TRUE(log_.items.empty());
}

TEST_F(ProfileApiTest, AMergedProfileReleasesOnlyWhatEveryPartAllows) {
  profiles_.profiles["p-1"] = Profile("p-1", {"p-2"});
  choices_["p-2"] = {};
  Choose("p-1", "email", "direct-marketing", true);
  auto view = api_->GetProfile(kMarketing, Request("p-1", "direct-marketing", {"email"}), "r");
  ASSERT_THAT(view.status(), IsOk());
  EXPECT_TRUE(view->fields().empty());  // p-2 never said yes
  Choose("p-2", "email", "direct-marketing", true);
  view = api_->GetProfile(kMarketing, Request("p-1", "direct-marketing", {"email"}), "r");
  ASSERT_THAT(view.status(), IsOk());
  EXPECT_EQ(view->fields().count("email"), 1u);
}

TEST_F(ProfileApiTest, BatchAndSearchLogOneEventPerProfileInOneCallToTheLog) {
  profiles_.profiles["p-2"] = Profile("p-2");
  choices_["p-2"] = {};
  v1::BatchGetProfilesRequest batch;
  batch.add_profile_ids("p-1");
  batch.add_profile_ids("p-2");
  *batch.mutable_context() = Request("p-1", "customer-care-human", {"email"}).context();
  auto got = api_->BatchGetProfiles(kSupport, batch, "r");
  ASSERT_THAT(got.status(), IsOk());
  ASSERT_EQ(got->profiles_size(), 2);
  EXPECT_EQ(log_.items.size(), 2u);
  EXPECT_NE(got->profiles(0).access_event_id(), got->profiles(1).access_event_id());
  batch.add_profile_ids("p-9");
  EXPECT_THAT(api_->BatchGetProfiles(kSupport, batch, "r").status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("profile_ids[2]")));
  batch.add_profile_ids(std::string(65, 'p'));
  EXPECT_THAT(api_->BatchGetProfiles(kSupport, batch, "r").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("profile_ids[3]")));
  EXPECT_EQ(log_.items.size(), 2u);

  v1::SearchProfilesRequest search;
  search.set_email("jan@example.nl");  // both profiles have it
  *search.mutable_context() = batch.context();
  auto hits = api_->SearchProfiles(kSupport, search, "r");
  ASSERT_THAT(hits.status(), IsOk());
  EXPECT_EQ(hits->profiles_size(), 2);
  EXPECT_EQ(log_.items.size(), 4u);
  search.set_email("nobody@example.nl");
  hits = api_->SearchProfiles(kSupport, search, "r");
  ASSERT_THAT(hits.status(), IsOk());
  EXPECT_EQ(hits->profiles_size(), 0);
  EXPECT_EQ(log_.items.size(), 4u);  // no hit, no subject, no event
  // A purpose the caller may not claim is refused alike with and without hits: the answer
  // never tells whether the e-mail address belongs to a customer.
  search.mutable_context()->set_purpose("direct-marketing");
  EXPECT_THAT(api_->SearchProfiles(kSupport, search, "r").status(), StatusIs(absl::StatusCode::kPermissionDenied));
  search.set_email("jan@example.nl");
  EXPECT_THAT(api_->SearchProfiles(kSupport, search, "r").status(), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(log_.items.size(), 6u);  // the refused hits are logged
}

TEST_F(ProfileApiTest, BadRequestsNameTheField) {
  auto r = Request("p-1", "customer-care-human", {"email", "shoe_size"});
  EXPECT_THAT(api_->GetProfile(kSupport, r, "r").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("context.read_mask.paths[1]")));
  r = Request("p-1", "customer-care-human", {"email"});
  r.mutable_context()->clear_acting_party();
  EXPECT_THAT(api_->GetProfile(kSupport, r, "r").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("context.acting_party.kind")));
  r = Request("p-1", "customer-care-human", {"email"});
  r.mutable_context()->clear_justification();
  EXPECT_THAT(api_->GetProfile(kSupport, r, "r").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("context.justification.code")));
  EXPECT_THAT(api_->GetProfile(kSupport, Request("p-1", "astrology", {"email"}), "r").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("context.purpose")));
  EXPECT_THAT(api_->GetProfile("spiffe://cdp.local/service/stranger", Request("p-1", "billing", {}), "r").status(),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(api_->GetProfile(kSupport, Request("p-9", "customer-care-human", {}), "r").status(),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_TRUE(log_.items.empty());
}

// A catalog made from the default one at random: some of its fields and a few new ones,
// every purpose with a random legal basis and a random scope, every caller with random
// purposes. Those the catalog's validation refuses are drawn again.
std::shared_ptr<const consent::Catalog> RandomCatalog(std::mt19937_64& rng, const v1::Catalog& base, int serial) {
  auto pick = [&](int n) { return static_cast<int>(std::uniform_int_distribution<int>(0, n - 1)(rng)); };
  for (;;) {
    v1::Catalog c = base;
    c.set_version(absl::StrCat("random-", serial));
    c.clear_fields();
    for (const v1::FieldDef& f : base.fields()) {
      if (pick(10) < 7) *c.add_fields() = f;
    }
    for (int i = pick(4); i > 0; --i) {
      v1::FieldDef f = base.fields(pick(base.fields_size()));
      f.set_name(absl::StrCat("extra_field_", i));
      f.set_category(static_cast<v1::Category>(1 + pick(8)));
      *c.add_fields() = f;
    }
    if (c.fields_size() == 0) continue;
    std::vector<std::string> purposes;
    for (v1::PurposeDef& p : *c.mutable_purposes()) {
      p.set_legal_basis(static_cast<v1::LegalBasis>(1 + pick(4)));
      if (consent::Catalog::IsSwitchable(p.legal_basis())) {
        p.clear_locked_reason();
      } else {
        *p.mutable_locked_reason() = p.title();
      }
      p.clear_categories();
      p.clear_fields();
      for (int cat = 1; cat <= 8; ++cat) {
        if (pick(3) == 0) p.add_categories(static_cast<v1::Category>(cat));
      }
      for (const v1::FieldDef& f : c.fields()) {
        if (pick(5) == 0) p.add_fields(f.name());
      }
      purposes.push_back(p.name());
    }
    for (v1::CallerDef& caller : *c.mutable_callers()) {
      caller.clear_purposes();
      for (const std::string& p : purposes) {
        if (pick(3) == 0) caller.add_purposes(p);
      }
    }
    auto made = consent::Catalog::FromProto(c);
    if (made.ok()) return *made;
  }
}

// The property, over random choices and requests on the catalog in use: no response ever
// holds a field the decision function denies for any profile it is made of (deny wins),
// every requested field is released, withheld with the reason, or allowed but absent;
// and every answered read, and every refused purpose of a known caller, has exactly one
// event that says what the response says (a stranger's attempt has none).
struct Tally {
  int released = 0, withheld = 0, absent = 0, refused = 0;
};

class ProfilePropertyTest : public ProfileApiTest {
 protected:
  void RandomRounds(std::mt19937_64& rng, int rounds, Tally& tally) {
    auto pick = [&](int n) { return static_cast<int>(std::uniform_int_distribution<int>(0, n - 1)(rng)); };
    const auto now = absl::FromUnixSeconds(1800000000);
    // p-1 on its own; p-2 with p-3 merged into it. Each holds most fields of the catalog.
    for (const char* id : {"p-1", "p-2"}) {
      v1::UnifiedProfile p;
      p.set_profile_id(id);
      if (std::string(id) == "p-2") p.add_merged_profile_ids("p-3");
      for (const auto& f : catalog_->proto().fields()) {
        if (pick(7) == 0) continue;
        auto* v = p.add_fields();
        v->set_field(f.name());
        v->set_value(absl::StrCat(id, ":", f.name()));
      }
      profiles_.profiles[id] = p;
    }
    choices_.clear();
    for (const char* id : {"p-1", "p-2", "p-3"}) choices_[id] = {};
    std::vector<std::string> callers = {"spiffe://cdp.local/service/stranger"};
    for (const auto& c : catalog_->proto().callers()) callers.push_back(c.id());

    for (int round = 0; round < rounds; ++round) {
      // A random choice on a random field or category for a random purpose, by one of them.
      const std::string who = absl::StrCat("p-", 1 + pick(3));
      const auto& purpose_def = catalog_->proto().purposes(pick(catalog_->purpose_count()));
      const auto& field_def = catalog_->proto().fields(pick(catalog_->field_count()));
      if (pick(3) == 0) {
        auto& c = choices_[who];
        ++c.version;
        c.choices.push_back({.category = field_def.category(), .purpose = purpose_def.name(), .allow = pick(2) == 0});
      } else {
        Choose(who, field_def.name(), purpose_def.name(), pick(2) == 0);
      }
      // A random read of one of the profiles.
      const std::string caller = callers[static_cast<size_t>(pick(static_cast<int>(callers.size())))];
      const std::string purpose = catalog_->proto().purposes(pick(catalog_->purpose_count())).name();
      const std::string profile = pick(2) == 0 ? "p-1" : "p-2";
      std::vector<std::string> mask;
      for (int i = pick(6); i > 0; --i) mask.push_back(catalog_->proto().fields(pick(catalog_->field_count())).name());
      const size_t events_before = log_.items.size();
      auto view = api_->GetProfile(caller, Request(profile, purpose, mask), "r");

      if (!view.ok()) {
        ++tally.refused;
        ASSERT_EQ(view.status().code(), absl::StatusCode::kPermissionDenied) << view.status();
        const bool known = catalog_->FindCaller(caller) != nullptr;
        ASSERT_EQ(log_.items.size(), events_before + (known ? 1 : 0)) << caller;
        if (known) {
          ASSERT_TRUE(log_.items.back().event().fields_released().empty());
        }
        continue;
      }
      ASSERT_EQ(log_.items.size(), events_before + 1);
      const v1::AccessEvent& e = log_.items.back().event();
      ASSERT_EQ(log_.items.back().customer_id(), profile);
      std::set<std::string> requested(mask.begin(), mask.end());
      if (mask.empty()) {
        for (const auto& f : catalog_->proto().fields()) requested.insert(f.name());
      }
      std::map<std::string, std::string> held;
      for (const auto& f : profiles_.profiles[profile].fields()) held[f.field()] = f.value();
      for (const std::string& field : requested) {
        // The decision function, for every profile this one is made of: deny wins.
        bool allow = true;
        for (const std::string& part : profile == "p-1" ? std::vector<std::string>{"p-1"}
                                                        : std::vector<std::string>{"p-2", "p-3"}) {
          const consent::CompiledChoices compiled(*catalog_, choices_[part]);
          allow = allow && consent::Decide(*catalog_, compiled, *catalog_->FindPurpose(purpose),
                                           *catalog_->FindField(field), now).allow;
        }
        const bool released = view->fields().count(field) > 0;
        const bool withheld = std::any_of(view->withheld().begin(), view->withheld().end(),
                                          [&](const auto& w) { return w.field() == field; });
        const bool logged_released = std::count(e.fields_released().begin(), e.fields_released().end(), field) > 0;
        ASSERT_EQ(released, logged_released) << field;
        ASSERT_EQ(withheld, e.fields_withheld().count(field) > 0) << field;
        if (!allow) {
          ASSERT_FALSE(released) << caller << " " << purpose << " " << field;
          ASSERT_TRUE(withheld) << field;
          ++tally.withheld;
        } else if (held.count(field)) {
          ASSERT_TRUE(released) << field;
          ASSERT_EQ(view->fields().at(field), held[field]);
          ++tally.released;
        } else {
          ASSERT_FALSE(released || withheld) << field;  // allowed, but the profile has none
          ++tally.absent;
        }
      }
      ASSERT_EQ(static_cast<size_t>(view->fields().size() + static_cast<size_t>(view->withheld_size())),
                static_cast<size_t>(e.fields_released_size()) + e.fields_withheld().size());
      for (const auto& w : view->withheld()) ASSERT_EQ(e.fields_withheld().at(w.field()), w.reason());
    }
  }
};

TEST_F(ProfilePropertyTest, NoDeniedFieldEverLeavesAndEveryReadHasOneEvent) {
  std::mt19937_64 rng(20261123);
  Tally tally;
  RandomRounds(rng, 3000, tally);
  // The rounds covered every outcome, many times.
  EXPECT_GT(tally.released, 300);
  EXPECT_GT(tally.withheld, 300);
  EXPECT_GT(tally.absent, 30);
  EXPECT_GT(tally.refused, 300);
}

TEST_F(ProfilePropertyTest, OverRandomCatalogsToo) {
  std::mt19937_64 rng(7);
  const v1::Catalog base = catalog_->proto();
  Tally tally;
  for (int n = 0; n < 40; ++n) {
    Use(RandomCatalog(rng, base, n));
    RandomRounds(rng, 150, tally);
    if (HasFatalFailure()) {
      ADD_FAILURE() << "on catalog " << n << ":\n" << catalog_->proto().DebugString();
      return;
    }
  }
  EXPECT_GT(tally.released, 300);
  EXPECT_GT(tally.withheld, 300);
  EXPECT_GT(tally.absent, 30);
  EXPECT_GT(tally.refused, 300);
}

}  // namespace
}  // namespace cdp::profile
