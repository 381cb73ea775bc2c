// The access log's sequencer, tree heads and verification over an in-memory store that can
// be made to fail.
#include "services/audit/access_log.h"

#include <algorithm>
#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "services/common/status_macros.h"
#include "tests/testing/status_matchers.h"

namespace cdp::audit {
namespace {

using ::cdp::testing::IsOk;
using ::cdp::testing::StatusIs;

class FakeEventStore : public EventStore {
 public:
  // Like a transaction: the events are "written", `before_commit` (if any) runs, and then
  // they are kept, unless it failed or the commit fails (FailNextCommits).
  absl::Status Append(const std::vector<StoredEvent>& events,
                      const std::function<absl::Status()>& before_commit) override {
    {
      absl::MutexLock lock(&mu_);
      ++appends_;
      if (fail_) return absl::UnavailableError("database down");
      ++written_;
      if (before_commit) ++hooked_;
    }
    if (before_commit) RETURN_IF_ERROR(before_commit());
    std::function<void()> hold;
    {
      absl::MutexLock lock(&mu_);
      hold = std::move(hold_commit_);
      hold_commit_ = nullptr;
    }
    if (hold) hold();
    absl::MutexLock lock(&mu_);
    const bool failing = failing_commits_ > 0;
    if (failing) --failing_commits_;
    if (failing && !failing_commits_land_) return absl::UnavailableError("commit failed");
    // Like the primary key on position: a position taken is refused; a gap is not.
    auto by_position = [](const StoredEvent& a, const StoredEvent& b) { return a.position < b.position; };
    for (const StoredEvent& e : events) {
      if (std::binary_search(events_.begin(), events_.end(), e, by_position)) {
        return absl::AbortedError("position taken");
      }
    }
    events_.insert(events_.end(), events.begin(), events.end());
    std::sort(events_.begin(), events_.end(), by_position);
    // A failing commit that landed all the same: the connection broke before the answer.
    if (failing) return absl::UnavailableError("connection lost while committing");
    return absl::OkStatus();
  }
  absl::Status Scan(int64_t from, int64_t to, const std::function<absl::Status(const StoredEvent&)>& visit) override {
    std::vector<StoredEvent> copy;
    {
      absl::MutexLock lock(&mu_);
      copy = events_;
    }
    for (const StoredEvent& e : copy) {
      if (e.position >= from && e.position < to) RETURN_IF_ERROR(visit(e));
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<Hash>> LeafHashes(int64_t from) override {
    absl::MutexLock lock(&mu_);
    std::vector<Hash> out;
    for (const StoredEvent& e : events_) {
      if (e.position < from) continue;
      const int64_t expected = from + static_cast<int64_t>(out.size());
      if (e.position != expected) return absl::DataLossError(absl::StrCat("position ", expected, " is missing"));
      out.push_back(e.leaf_hash);
    }
    return out;
  }
  absl::StatusOr<std::vector<std::string>> Pseudonyms(const std::vector<std::string>& ids) override {
    absl::MutexLock lock(&mu_);
    std::vector<std::string> out;
    for (const std::string& id : ids) {
      auto [it, added] = pseudonyms_.try_emplace(id, absl::StrCat("sp-", pseudonyms_.size()));
      out.push_back(it->second);
    }
    return out;
  }
  absl::StatusOr<bool> ForgetSubject(const std::string&) override {
    return absl::UnimplementedError("not used here");
  }
  absl::StatusOr<std::optional<std::string>> FindPseudonym(const std::string& id) override {
    absl::MutexLock lock(&mu_);
    auto it = pseudonyms_.find(id);
    return it == pseudonyms_.end() ? std::optional<std::string>() : std::optional<std::string>(it->second);
  }
  absl::StatusOr<std::vector<StoredEvent>> EventsOf(const std::string& pseudonym, int64_t before, int limit,
                                                    const std::string& skip_purpose,
                                                    const std::string& skip_actor) override {
    absl::MutexLock lock(&mu_);
    std::vector<StoredEvent> out;
    for (auto it = events_.rbegin(); it != events_.rend() && static_cast<int>(out.size()) < limit; ++it) {
      if (!skip_purpose.empty() && it->purpose == skip_purpose && it->acting_party_id == skip_actor) continue;
      if (it->subject_pseudonym == pseudonym && it->position < before) out.push_back(*it);
    }
    return out;
  }
  absl::StatusOr<std::vector<StoredEvent>> Query(const Filter&, int64_t, int) override {
    return absl::UnimplementedError("not used by these tests");
  }
  absl::StatusOr<std::vector<CallerActivity>> ActivityByCaller(absl::Time, absl::Duration, int) override {
    return absl::UnimplementedError("not used by these tests");
  }
  absl::Status SaveTreeHead(const TreeHead& head) override {
    absl::MutexLock lock(&mu_);
    heads_[head.tree_size] = head;
    return absl::OkStatus();
  }
  absl::StatusOr<std::optional<TreeHead>> LatestTreeHead() override {
    absl::MutexLock lock(&mu_);
    if (heads_.empty()) return std::optional<TreeHead>();
    return std::optional<TreeHead>(heads_.rbegin()->second);
  }
  absl::StatusOr<std::vector<TreeHead>> TreeHeads() override {
    absl::MutexLock lock(&mu_);
    std::vector<TreeHead> out;
    for (const auto& [size, head] : heads_) out.push_back(head);
    return out;
  }

  void set_fail(bool fail) {
    absl::MutexLock lock(&mu_);
    fail_ = fail;
  }
  // The next `n` commits fail; if `land`, their events are kept all the same.
  void FailNextCommits(int n, bool land = false) {
    absl::MutexLock lock(&mu_);
    failing_commits_ = n;
    failing_commits_land_ = land;
  }
  // Whether `n` groups have been written (committed or not) within a generous time.
  bool WaitForWrites(int n) {
    absl::MutexLock lock(&mu_);
    auto written = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return written_ >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&written), absl::Seconds(60));
  }
  // Appends that waited for a go-ahead before their commit (the pipelined ones).
  int hooked() {
    absl::MutexLock lock(&mu_);
    return hooked_;
  }
  // The next commit first calls `hold` (once).
  void HoldNextCommit(std::function<void()> hold) {
    absl::MutexLock lock(&mu_);
    hold_commit_ = std::move(hold);
  }
  std::vector<StoredEvent> events() {
    absl::MutexLock lock(&mu_);
    return events_;
  }
  void Remove(int64_t position) {
    absl::MutexLock lock(&mu_);
    events_.erase(events_.begin() + position);
  }
  void Edit(int64_t position, const std::function<void(StoredEvent&)>& edit) {
    absl::MutexLock lock(&mu_);
    edit(events_[static_cast<size_t>(position)]);
  }
  int appends() {
    absl::MutexLock lock(&mu_);
    return appends_;
  }

 private:
  absl::Mutex mu_;
  std::vector<StoredEvent> events_;
  std::map<int64_t, TreeHead> heads_;
  std::map<std::string, std::string> pseudonyms_;
  bool fail_ = false;
  int failing_commits_ = 0;
  bool failing_commits_land_ = false;
  std::function<void()> hold_commit_;
  int appends_ = 0;
  int written_ = 0;
  int hooked_ = 0;
};

v1::AccessEvent Event(const std::string& subject, const std::string& purpose = "customer_service") {
  v1::AccessEvent e;
  e.set_caller("spiffe://cdp.local/service/support-desk");
  e.mutable_acting_party()->set_kind(v1::ActingParty::HUMAN_AGENT);
  e.mutable_acting_party()->set_id("agent-7");
  e.set_subject_pseudonym(subject);
  e.set_purpose(purpose);
  e.set_legal_basis("contract");
  e.add_fields_released("email");
  (*e.mutable_fields_withheld())["phone_mobile"] = "no consent for this purpose";
  e.set_consent_version(3);
  e.set_request_id("req-1");
  return e;
}

class AccessLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto signer = consent::ReceiptSigner::FromPem(consent::NewEd25519PrivateKeyPem());
    ASSERT_THAT(signer.status(), IsOk());
    signer_ = *std::move(signer);
    log_ = std::make_unique<AccessLog>(store_, *signer_, AccessLog::Options{.sign_interval = absl::Hours(1)});
    ASSERT_THAT(log_->Start(), IsOk());
  }
  FakeEventStore store_;
  std::unique_ptr<consent::ReceiptSigner> signer_;
  std::unique_ptr<AccessLog> log_;
};

TEST_F(AccessLogTest, ConcurrentCallersGetGapFreePositionsAndShareTransactions) {
  constexpr int kThreads = 8, kEach = 200;
  std::vector<std::thread> threads;
  std::vector<std::vector<int64_t>> positions(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto appended = log_->Append({Event(absl::StrCat("s-", t, "-", i))});
        ASSERT_THAT(appended.status(), IsOk());
        positions[static_cast<size_t>(t)].push_back((*appended)[0].position);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::vector<int64_t> all;
  for (const auto& p : positions) {
    EXPECT_TRUE(std::is_sorted(p.begin(), p.end()));  // each caller's events in its order
    all.insert(all.end(), p.begin(), p.end());
  }
  std::sort(all.begin(), all.end());
  for (int64_t i = 0; i < static_cast<int64_t>(all.size()); ++i) ASSERT_EQ(all[static_cast<size_t>(i)], i);
  EXPECT_EQ(store_.events().size(), static_cast<size_t>(kThreads * kEach));
  EXPECT_EQ(log_->size(), kThreads * kEach);
  // Waiting callers were committed together (8 callers never need 1,600 transactions).
  EXPECT_LT(store_.appends(), kThreads * kEach);
}

TEST_F(AccessLogTest, AFailedStoreLogsNothingAndTheLogGoesOnAfterwards) {
  ASSERT_THAT(log_->Append({Event("s-1")}).status(), IsOk());
  store_.set_fail(true);
  EXPECT_THAT(log_->Append({Event("s-2"), Event("s-3")}).status(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(store_.events().size(), 1u);
  EXPECT_EQ(log_->size(), 1);
  store_.set_fail(false);
  auto next = log_->Append({Event("s-4")});
  ASSERT_THAT(next.status(), IsOk());
  EXPECT_EQ((*next)[0].position, 1);  // no gap where the failed events would have been
  EXPECT_THAT(log_->Verify().status(), IsOk());
  EXPECT_TRUE(log_->Verify()->ok);
}

// Three groups, one event each: the first finds the log idle and is held in its commit;
// the second queues behind it and, once the first has committed, is held in its own
// commit; the third queues behind the second and is written meanwhile. Then the second
// commit ends, failed if `second_commit_fails` (only that one: the third's commit would
// go through, were the third let to commit).
struct ThreeGroups {
  absl::StatusOr<std::vector<AccessLog::Appended>> first, second, third;
  bool third_written_before_second_committed = false;
  size_t stored_while_second_committed = 0;
};

ThreeGroups RunThreeGroups(AccessLog& log, FakeEventStore& store, bool second_commit_fails) {
  ThreeGroups out;
  absl::Notification first_committing, release_first, second_committing, release_second;
  store.HoldNextCommit([&] {
    first_committing.Notify();
    release_first.WaitForNotification();
  });
  std::thread first([&] { out.first = log.Append({Event("s-1")}); });
  EXPECT_TRUE(first_committing.WaitForNotificationWithTimeout(absl::Seconds(60)));
  std::thread second([&] { out.second = log.Append({Event("s-2")}); });
  EXPECT_TRUE(log.AwaitGroupsInFlight(2, absl::Seconds(60)));
  store.HoldNextCommit([&] {
    second_committing.Notify();
    release_second.WaitForNotification();
  });
  release_first.Notify();
  EXPECT_TRUE(second_committing.WaitForNotificationWithTimeout(absl::Seconds(60)));
  std::thread third([&] { out.third = log.Append({Event("s-3")}); });
  out.third_written_before_second_committed = store.WaitForWrites(3);
  out.stored_while_second_committed = store.events().size();
  if (second_commit_fails) store.FailNextCommits(1);
  release_second.Notify();
  first.join();
  second.join();
  third.join();
  return out;
}

TEST_F(AccessLogTest, AGroupQueuedBehindAnotherIsWrittenWhileThatOneCommits) {
  ThreeGroups run = RunThreeGroups(*log_, store_, /*second_commit_fails=*/false);
  EXPECT_TRUE(run.third_written_before_second_committed);
  EXPECT_EQ(run.stored_while_second_committed, 1u);  // the third did not commit first
  ASSERT_THAT(run.first.status(), IsOk());
  ASSERT_THAT(run.second.status(), IsOk());
  ASSERT_THAT(run.third.status(), IsOk());
  EXPECT_EQ((*run.first)[0].position, 0);
  EXPECT_EQ((*run.second)[0].position, 1);
  EXPECT_EQ((*run.third)[0].position, 2);
  // The first, alone, committed in one go; the two that queued waited for their turn.
  EXPECT_EQ(store_.hooked(), 2);
  EXPECT_EQ(store_.events().size(), 3u);
  EXPECT_EQ(log_->size(), 3);
  auto verified = log_->Verify();
  ASSERT_THAT(verified.status(), IsOk());
  EXPECT_TRUE(verified->ok);
}

TEST_F(AccessLogTest, WhenACommitFailsTheGroupWrittenBehindItFailsToo) {
  ThreeGroups run = RunThreeGroups(*log_, store_, /*second_commit_fails=*/true);
  EXPECT_TRUE(run.third_written_before_second_committed);
  ASSERT_THAT(run.first.status(), IsOk());
  EXPECT_THAT(run.second.status(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(run.third.status(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(store_.events().size(), 1u);
  EXPECT_EQ(log_->size(), 1);
  auto next = log_->Append({Event("s-4")});
  ASSERT_THAT(next.status(), IsOk());
  EXPECT_EQ((*next)[0].position, 1);  // no gap where the failed events would have been
  auto verified = log_->Verify();
  ASSERT_THAT(verified.status(), IsOk());
  EXPECT_TRUE(verified->ok);
}

TEST_F(AccessLogTest, WhenAGroupCommittingAloneFailsTheGroupQueuedBehindItFailsToo) {
  absl::Notification first_committing, release_first;
  store_.HoldNextCommit([&] {
    first_committing.Notify();
    release_first.WaitForNotification();
  });
  absl::StatusOr<std::vector<AccessLog::Appended>> first_result, second_result;
  std::thread first([&] { first_result = log_->Append({Event("s-1")}); });
  ASSERT_TRUE(first_committing.WaitForNotificationWithTimeout(absl::Seconds(60)));
  std::thread second([&] { second_result = log_->Append({Event("s-2")}); });
  EXPECT_TRUE(log_->AwaitGroupsInFlight(2, absl::Seconds(60)));
  store_.FailNextCommits(1);
  release_first.Notify();
  first.join();
  second.join();
  EXPECT_THAT(first_result.status(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(second_result.status(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_TRUE(store_.events().empty());
  auto next = log_->Append({Event("s-3")});
  ASSERT_THAT(next.status(), IsOk());
  EXPECT_EQ((*next)[0].position, 0);
}

TEST_F(AccessLogTest, ACommitThatFailedButLandedIsTakenInBeforeTheNextGroup) {
  // The connection broke while committing: the caller is told it failed (its read fails),
  // but the events are stored, and the log must not number over them.
  store_.FailNextCommits(1, /*land=*/true);
  EXPECT_THAT(log_->Append({Event("s-1"), Event("s-2")}).status(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(store_.events().size(), 2u);
  auto next = log_->Append({Event("s-3")});
  ASSERT_THAT(next.status(), IsOk());
  EXPECT_EQ((*next)[0].position, 2);
  EXPECT_EQ(log_->size(), 3);
  auto verified = log_->Verify();
  ASSERT_THAT(verified.status(), IsOk());
  EXPECT_TRUE(verified->ok) << verified->problem;
}

TEST_F(AccessLogTest, EventsWithoutCallerPurposeOrSubjectAreRefusedByName) {
  v1::AccessEvent e = Event("s-1");
  e.clear_purpose();
  EXPECT_THAT(log_->Append({Event("s-0"), e}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("events[1].purpose")));
  EXPECT_TRUE(store_.events().empty());
}

TEST_F(AccessLogTest, FieldNamesThatTheFieldsColumnCannotHoldAreRefusedByName) {
  for (const std::string bad : {"", "date of_birth", "email "}) {
    SCOPED_TRACE(bad);
    v1::AccessEvent released = Event("s-1");
    released.add_fields_released(bad);
    EXPECT_THAT(log_->Append({Event("s-0"), released}).status(),
                StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("events[1].fields_released[1]")));
    v1::AccessEvent withheld = Event("s-1");
    (*withheld.mutable_fields_withheld())[bad] = "no consent for this purpose";
    EXPECT_THAT(log_->Append({withheld}).status(),
                StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("events[0].fields_withheld")));
  }
  EXPECT_TRUE(store_.events().empty());
  // The column names each field once, sorted, whether released or withheld or both.
  v1::AccessEvent e = Event("s-2");
  e.add_fields_released("phone_mobile");
  e.add_fields_released("email");
  e.add_fields_released("date_of_birth");
  ASSERT_THAT(log_->Append({e}).status(), IsOk());
  ASSERT_EQ(store_.events().size(), 1u);
  EXPECT_EQ(store_.events()[0].fields, "date_of_birth email phone_mobile");
  EXPECT_TRUE(log_->Verify()->ok);
}

TEST_F(AccessLogTest, SignedHeadsAndProofsVerifyWithNothingButThePublicKey) {
  std::vector<AccessLog::Appended> appended;
  for (int i = 0; i < 13; ++i) {
    auto a = log_->Append({Event(absl::StrCat("s-", i))});
    ASSERT_THAT(a.status(), IsOk());
    appended.push_back((*a)[0]);
  }
  ASSERT_THAT(log_->SignNow(), IsOk());
  auto head = log_->LatestTreeHead();
  ASSERT_THAT(head.status(), IsOk());
  EXPECT_EQ(head->tree_size, 13);
  // The JWS is the head's JSON, signed with the log's key.
  auto payload = consent::VerifyJws(head->signature, signer_->public_key_pem());
  ASSERT_THAT(payload.status(), IsOk());
  EXPECT_EQ(*payload, TreeHeadJson(13, head->root_hash, head->signed_at));
  // Each event is in the signed tree.
  for (const auto& a : appended) {
    auto proof = log_->InclusionProof(a.position, head->tree_size);
    ASSERT_THAT(proof.status(), IsOk());
    const StoredEvent stored = store_.events()[static_cast<size_t>(a.position)];
    EXPECT_TRUE(VerifyInclusion(LeafHash(stored.entry), a.position, head->tree_size, *proof, head->root_hash));
  }
  // A later head is consistent with it.
  ASSERT_THAT(log_->Append({Event("s-late")}).status(), IsOk());
  ASSERT_THAT(log_->SignNow(), IsOk());
  auto later = log_->LatestTreeHead();
  ASSERT_THAT(later.status(), IsOk());
  EXPECT_EQ(later->tree_size, 14);
  auto consistency = log_->ConsistencyProof(13, 14);
  ASSERT_THAT(consistency.status(), IsOk());
  EXPECT_TRUE(VerifyConsistency(13, 14, head->root_hash, later->root_hash, *consistency));
}

TEST_F(AccessLogTest, VerifyNamesTheFirstEventThatWasChanged) {
  for (int i = 0; i < 10; ++i) ASSERT_THAT(log_->Append({Event(absl::StrCat("s-", i))}).status(), IsOk());
  ASSERT_THAT(log_->SignNow(), IsOk());
  ASSERT_TRUE(log_->Verify()->ok);

  // A copied column no longer says what the entry says.
  store_.Edit(6, [](StoredEvent& e) { e.purpose = "marketing"; });
  auto v = log_->Verify();
  ASSERT_THAT(v.status(), IsOk());
  EXPECT_FALSE(v->ok);
  EXPECT_EQ(v->first_bad_position, 6);
  store_.Edit(6, [](StoredEvent& e) { e.purpose = "customer_service"; });
  ASSERT_TRUE(log_->Verify()->ok);

  // The entry and its hash rewritten together, consistently, in a part no column copies
  // (the request id): the tree this log built, and the signed root, still tell.
  store_.Edit(4, [](StoredEvent& e) {
    v1::AccessEvent parsed;
    ASSERT_TRUE(parsed.ParseFromString(e.entry));
    parsed.set_request_id("req-forged");
    e.entry = EntryOf(parsed);
    e.leaf_hash = LeafHash(e.entry);
  });
  v = log_->Verify();
  ASSERT_THAT(v.status(), IsOk());
  EXPECT_FALSE(v->ok);
  EXPECT_EQ(v->first_bad_position, 4);
  EXPECT_THAT(v->problem, ::testing::HasSubstr("the one this log appended"));
  EXPECT_EQ(v->events_checked, 5);

  // After a restart the log rebuilds its tree from what is stored; the signed root is
  // then what gives the change away.
  log_.reset();
  AccessLog restarted(store_, *signer_, AccessLog::Options{.sign_interval = absl::Hours(1)});
  ASSERT_THAT(restarted.Start(), IsOk());
  v = restarted.Verify();
  ASSERT_THAT(v.status(), IsOk());
  EXPECT_FALSE(v->ok);
  EXPECT_THAT(v->problem, ::testing::HasSubstr("signed"));
}

TEST_F(AccessLogTest, ALongLogIsVerifiedInPartsAndTheFirstBadEventIsStillNamed) {
  constexpr int kEvents = 2 * AccessLog::kVerifyPartMin + 1000, kBatch = 500;
  for (int i = 0; i < kEvents; i += kBatch) {
    std::vector<v1::AccessEvent> batch;
    for (int k = 0; k < kBatch; ++k) batch.push_back(Event(absl::StrCat("s-", i + k)));
    ASSERT_THAT(log_->Append(batch).status(), IsOk());
  }
  ASSERT_THAT(log_->SignNow(), IsOk());
  auto v = log_->Verify();
  ASSERT_THAT(v.status(), IsOk());
  EXPECT_TRUE(v->ok) << v->problem;
  EXPECT_EQ(v->events_checked, kEvents);

  // Changes in both parts: the earlier one is named.
  const int64_t late = kEvents - 10, early = 7;
  store_.Edit(late, [](StoredEvent& e) { e.caller = "spiffe://cdp.local/service/elsewhere"; });
  v = log_->Verify();
  EXPECT_FALSE(v->ok);
  EXPECT_EQ(v->first_bad_position, late);
  store_.Edit(early, [](StoredEvent& e) { e.purpose = "marketing"; });
  v = log_->Verify();
  EXPECT_FALSE(v->ok);
  EXPECT_EQ(v->first_bad_position, early);
  EXPECT_EQ(v->events_checked, early + 1);
}

TEST_F(AccessLogTest, AnEventRemovedAtTheEndOfAPartIsNamedMissing) {
  constexpr int kEvents = 2 * AccessLog::kVerifyPartMin, kBatch = 500;
  for (int i = 0; i < kEvents; i += kBatch) {
    std::vector<v1::AccessEvent> batch;
    for (int k = 0; k < kBatch; ++k) batch.push_back(Event(absl::StrCat("s-", i + k)));
    ASSERT_THAT(log_->Append(batch).status(), IsOk());
  }
  // The last event of the first part (the parts split the log in halves).
  store_.Remove(kEvents / 2 - 1);
  auto v = log_->Verify();
  ASSERT_THAT(v.status(), IsOk());
  EXPECT_FALSE(v->ok);
  EXPECT_EQ(v->first_bad_position, kEvents / 2 - 1);
  EXPECT_THAT(v->problem, ::testing::HasSubstr("missing"));
}

TEST(TreeHeadSignedTest, OnlyTheExactHeadUnderTheTrustedKeyChecksOut) {
  auto signer = consent::ReceiptSigner::FromPem(consent::NewEd25519PrivateKeyPem());
  auto other = consent::ReceiptSigner::FromPem(consent::NewEd25519PrivateKeyPem());
  ASSERT_TRUE(signer.ok() && other.ok());
  const Hash root = LeafHash("root");
  const absl::Time at = absl::FromUnixMicros(1790000000123456);
  const std::string signature = (*signer)->Sign(TreeHeadJson(7, root, at));
  const std::string key = (*signer)->public_key_pem();
  EXPECT_TRUE(TreeHeadSigned(signature, 7, root, at, key));
  EXPECT_FALSE(TreeHeadSigned(signature, 7, root, at, (*other)->public_key_pem()));
  EXPECT_FALSE(TreeHeadSigned(signature, 8, root, at, key));
  EXPECT_FALSE(TreeHeadSigned(signature, 7, LeafHash("other"), at, key));
  EXPECT_FALSE(TreeHeadSigned(signature, 7, root, at + absl::Microseconds(1), key));
  EXPECT_FALSE(TreeHeadSigned("not.a.jws", 7, root, at, key));
}

}  // namespace
}  // namespace cdp::audit
