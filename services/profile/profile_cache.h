// Golden records kept in the profile service's memory, so that a read of a profile read a
// moment ago costs no call to the ingest service and its database.
//
// Correctness before speed: an entry is dropped when the ingest service's change feed
// (WatchProfileChanges) names any profile it is made of, and the cache answers only while
// that feed is confirmed current within the staleness bound (heartbeats every 20 ms); when
// it is not, every read goes to the ingest service as if there were no cache. A record
// fetched while any change arrived is not kept (it may predate the change). Unknown and
// erased profiles are never kept.
//
// Thread-safe.
#ifndef CDP_SERVICES_PROFILE_PROFILE_CACHE_H_
#define CDP_SERVICES_PROFILE_PROFILE_CACHE_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "grpcpp/client_context.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"
#include "services/common/tls.h"
#include "services/profile/profile_api.h"

namespace cdp::profile {

class CachingProfileSource : public ProfileSource {
 public:
  struct Options {
    absl::Duration staleness_bound = absl::Milliseconds(100);
    size_t max_entries = 100000;   // beyond it the oldest entries make room
    std::function<absl::Time()> now = [] { return absl::Now(); };
    // Where to count reads as cdp_profile_cache_reads_total{outcome=hit|miss|bypassed};
    // none: not counted there (stats() counts regardless).
    prometheus::Registry* registry = nullptr;
  };
  // `next` must outlive this.
  CachingProfileSource(ProfileSource& next, Options options);
  ~CachingProfileSource() override;

  // Hits are answered on the calling thread; misses when the ingest service answers.
  void GetManyAsync(std::vector<std::string> profile_ids, Done<ProfileAnswers> done) override;
  absl::StatusOr<v1::FindProfilesResponse> Find(const v1::FindProfilesRequest& request) override {
    return next_.Find(request);
  }

  // The change feed, as the watcher (or a test) delivers it: the feed is current up to
  // `seq` as of now, and these profiles changed since the last call.
  void OnChanges(int64_t seq, const std::vector<std::string>& profile_ids);
  // The feed broke: everything kept may be stale, so nothing is, until it is back.
  void OnFeedLost();
  // The position to resume the feed after.
  int64_t seq() const;

  // Follows the ingest service's WatchProfileChanges on a thread of its own until the
  // destructor, reconnecting after failures.
  void StartWatching(rpc::RenewingChannel& ingest);

  struct Stats {
    int64_t hits = 0, misses = 0, bypassed = 0;
  };
  Stats stats() const;

 private:
  struct Entry {
    Profile profile;                   // handed out shared: no copy per read
    std::vector<std::string> members;  // the requested id, the root and every merged part
    uint64_t stamp = 0;                // when it was kept (its place in order_)
  };
  bool CurrentLocked(absl::Time now) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  void DropLocked(const std::string& key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ClearLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Drops the oldest entries until one more fits.
  void MakeRoomLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  ProfileSource& next_;
  const Options options_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  // member profile id -> the keys of entries made of it
  absl::flat_hash_map<std::string, absl::flat_hash_set<std::string>> by_member_ ABSL_GUARDED_BY(mu_);
  // Keys in the order they were kept, with their stamp; an item whose entry has gone or
  // was kept again since (another stamp) is skipped when it comes to the front.
  std::deque<std::pair<std::string, uint64_t>> order_ ABSL_GUARDED_BY(mu_);
  uint64_t next_stamp_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t seq_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t generation_ ABSL_GUARDED_BY(mu_) = 0;   // moves on every change delivered
  absl::Time heard_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  Stats stats_ ABSL_GUARDED_BY(mu_);
  prometheus::Counter* hits_ = nullptr;
  prometheus::Counter* misses_ = nullptr;
  prometheus::Counter* bypassed_ = nullptr;
  absl::Notification stop_;
  absl::Mutex stream_mu_;
  grpc::ClientContext* stream_ ABSL_GUARDED_BY(stream_mu_) = nullptr;
  std::thread watcher_;
};

}  // namespace cdp::profile

#endif  // CDP_SERVICES_PROFILE_PROFILE_CACHE_H_
