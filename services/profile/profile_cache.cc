#include "services/profile/profile_cache.h"

#include <algorithm>

#include "cdp/v1/ingest.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "services/common/grpc_status.h"
#include "services/common/log.h"

namespace cdp::profile {

CachingProfileSource::CachingProfileSource(ProfileSource& next, Options options)
    : next_(next), options_(std::move(options)) {
  if (options_.registry != nullptr) {
    auto& family = prometheus::BuildCounter()
                       .Name("cdp_profile_cache_reads_total")
                       .Help("Golden-record reads by outcome: from memory (hit), from the ingest service and kept "
                             "(miss), or past the cache because its change feed was not current (bypassed)")
                       .Register(*options_.registry);
    hits_ = &family.Add({{"outcome", "hit"}});
    misses_ = &family.Add({{"outcome", "miss"}});
    bypassed_ = &family.Add({{"outcome", "bypassed"}});
  }
}

CachingProfileSource::~CachingProfileSource() {
  {
    absl::MutexLock lock(&stream_mu_);
    stop_.Notify();
    if (stream_ != nullptr) stream_->TryCancel();
  }
  if (watcher_.joinable()) watcher_.join();
}

bool CachingProfileSource::CurrentLocked(absl::Time now) const { return now - heard_ <= options_.staleness_bound; }

void CachingProfileSource::DropLocked(const std::string& key) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  for (const std::string& m : it->second.members) {
    auto b = by_member_.find(m);
    if (b == by_member_.end()) continue;
    b->second.erase(key);
    if (b->second.empty()) by_member_.erase(b);
  }
  entries_.erase(it);
}

void CachingProfileSource::ClearLocked() {
  entries_.clear();
  by_member_.clear();
  order_.clear();
}

void CachingProfileSource::MakeRoomLocked() {
  while (entries_.size() >= options_.max_entries && !order_.empty()) {
    auto [key, stamp] = std::move(order_.front());
    order_.pop_front();
    auto it = entries_.find(key);
    if (it != entries_.end() && it->second.stamp == stamp) DropLocked(key);
  }
  // Items of entries dropped by changes wait in the queue; keep it within bounds.
  if (order_.size() > 2 * options_.max_entries + 1024) {
    order_.clear();
    for (const auto& [key, entry] : entries_) order_.emplace_back(key, entry.stamp);
    std::sort(order_.begin(), order_.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  }
}

void CachingProfileSource::GetManyAsync(std::vector<std::string> profile_ids, Done<ProfileAnswers> done) {
  ProfileAnswers answers(profile_ids.size(), absl::UnavailableError("not read"));
  std::vector<size_t> missing;
  int64_t generation = 0;
  {
    absl::MutexLock lock(&mu_);
    if (!CurrentLocked(options_.now())) {
      ++stats_.bypassed;
      if (bypassed_ != nullptr) bypassed_->Increment(static_cast<double>(profile_ids.size()));
      generation = -1;
    } else {
      generation = generation_;
      for (size_t i = 0; i < profile_ids.size(); ++i) {
        auto it = entries_.find(profile_ids[i]);
        if (it != entries_.end()) {
          answers[i] = it->second.profile;
          ++stats_.hits;
          if (hits_ != nullptr) hits_->Increment();
        } else {
          missing.push_back(i);
          ++stats_.misses;
          if (misses_ != nullptr) misses_->Increment();
        }
      }
    }
  }
  if (generation < 0) return next_.GetManyAsync(std::move(profile_ids), std::move(done));  // not current: no cache
  if (missing.empty()) return std::move(done)(std::move(answers));
  std::vector<std::string> ids;
  ids.reserve(missing.size());
  for (size_t i : missing) ids.push_back(profile_ids[i]);
  next_.GetManyAsync(ids, [this, ids, generation, missing = std::move(missing), answers = std::move(answers),
                           done = std::move(done)](absl::StatusOr<ProfileAnswers> fetched) mutable {
    if (!fetched.ok()) return std::move(done)(fetched.status());
    if (fetched->size() != ids.size()) {
      return std::move(done)(absl::InternalError("profiles answered for other ids"));
    }
    {
      absl::MutexLock lock(&mu_);
      // Keep what was read only if no change arrived meanwhile and the feed is still
      // current: otherwise it may already be out of date.
      const bool keep = generation == generation_ && CurrentLocked(options_.now());
      for (size_t k = 0; k < missing.size(); ++k) {
        absl::StatusOr<Profile>& answer = (*fetched)[k];
        if (keep && answer.ok()) {
          const std::string& key = ids[k];
          DropLocked(key);
          MakeRoomLocked();
          Entry entry{*answer, {key, (*answer)->profile_id()}, next_stamp_++};
          order_.emplace_back(key, entry.stamp);
          entry.members.insert(entry.members.end(), (*answer)->merged_profile_ids().begin(),
                               (*answer)->merged_profile_ids().end());
          for (const std::string& m : entry.members) by_member_[m].insert(key);
          entries_.emplace(key, std::move(entry));
        }
        answers[missing[k]] = std::move(answer);
      }
    }
    std::move(done)(std::move(answers));
  });
}

void CachingProfileSource::OnChanges(int64_t seq, const std::vector<std::string>& profile_ids) {
  absl::MutexLock lock(&mu_);
  seq_ = seq;
  heard_ = options_.now();
  if (profile_ids.empty()) return;
  ++generation_;
  for (const std::string& id : profile_ids) {
    auto b = by_member_.find(id);
    if (b == by_member_.end()) continue;
    const std::vector<std::string> keys(b->second.begin(), b->second.end());
    for (const std::string& key : keys) DropLocked(key);
  }
}

void CachingProfileSource::OnFeedLost() {
  absl::MutexLock lock(&mu_);
  heard_ = absl::InfinitePast();
  ++generation_;
  ClearLocked();
}

int64_t CachingProfileSource::seq() const {
  absl::MutexLock lock(&mu_);
  return seq_;
}

CachingProfileSource::Stats CachingProfileSource::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

void CachingProfileSource::StartWatching(rpc::RenewingChannel& ingest) {
  watcher_ = std::thread([this, &ingest] {
    while (!stop_.HasBeenNotified()) {
      grpc::ClientContext ctx;
      {
        absl::MutexLock lock(&stream_mu_);
        if (stop_.HasBeenNotified()) break;
        stream_ = &ctx;  // the destructor cancels it
      }
      const auto used = ingest.get();
      v1::WatchProfileChangesRequest request;  // from now on: the cache starts empty
      auto reader = v1::IngestService::NewStub(used)->WatchProfileChanges(&ctx, request);
      v1::ProfileChanges changes;
      while (reader->Read(&changes)) {
        OnChanges(changes.seq(), std::vector<std::string>(changes.profile_ids().begin(), changes.profile_ids().end()));
      }
      OnFeedLost();
      absl::Status s = rpc::FromGrpcStatus(reader->Finish());
      {
        absl::MutexLock lock(&stream_mu_);
        stream_ = nullptr;
      }
      ingest.Observe(s.code(), used);
      if (!stop_.HasBeenNotified()) {
        log::Warning("profile_feed_lost", {{"code", absl::StatusCodeToString(s.code())}});
        stop_.WaitForNotificationWithTimeout(absl::Milliseconds(200));
      }
    }
  });
}

}  // namespace cdp::profile
