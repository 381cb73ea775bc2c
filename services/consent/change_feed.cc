#include "services/consent/change_feed.h"

#include "services/common/log.h"

namespace cdp::consent {

ChangeFeed::ChangeFeed(ConsentStore& store, Options options)
    : store_(store), options_(options), poller_([this] { Run(); }) {}

ChangeFeed::~ChangeFeed() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  poller_.join();
}

void ChangeFeed::Notify() {
  absl::MutexLock lock(&mu_);
  notified_ = true;
}

ChangeFeed::Poll ChangeFeed::WaitForPoll(uint64_t after_generation, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto newer = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return last_.generation > after_generation || stop_;
  };
  mu_.AwaitWithTimeout(absl::Condition(&newer), timeout);
  return last_;
}

std::optional<std::vector<v1::CustomerConsent>> ChangeFeed::Since(int64_t position,
                                                                  size_t max) const {
  absl::MutexLock lock(&mu_);
  if (!started_ || position > last_.head) return std::nullopt;
  const int64_t first = recent_.empty() ? last_.head + 1 : recent_.front().position();
  if (position + 1 < first) return std::nullopt;
  std::vector<v1::CustomerConsent> out;
  // Positions have no gaps, so the change after `position` sits at a known index.
  for (size_t i = static_cast<size_t>(position + 1 - first); i < recent_.size() && out.size() < max;
       ++i) {
    out.push_back(recent_[i]);
  }
  return out;
}

void ChangeFeed::Run() {
  bool failing = false;
  while (true) {
    int64_t head = 0;
    bool started = false;
    {
      absl::MutexLock lock(&mu_);
      auto woken = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return notified_ || stop_; };
      mu_.AwaitWithTimeout(absl::Condition(&woken), options_.poll_interval);
      if (stop_) return;
      notified_ = false;
      head = last_.head;
      started = started_;
    }
    const absl::Time at = absl::Now();
    absl::Status status;
    std::vector<v1::CustomerConsent> changes;
    if (!started) {
      // Memory starts at the head as of the first poll; streams behind it read the store.
      absl::StatusOr<int64_t> h = store_.Head();
      status = h.status();
      if (h.ok()) head = *h;
    } else {
      auto read = store_.Feed(head, 1000);
      status = read.status();
      if (read.ok()) changes = *std::move(read);
    }
    if (!status.ok()) {
      if (!failing) {
        log::Warning("consent_feed_unavailable",
                     {{"code", absl::StatusCodeToString(status.code())}});
      }
      failing = true;
      continue;
    }
    if (failing) log::Info("consent_feed_recovered");
    failing = false;
    const bool more = changes.size() == 1000;
    absl::MutexLock lock(&mu_);
    for (v1::CustomerConsent& c : changes) {
      head = c.position();
      recent_.push_back(std::move(c));
    }
    while (recent_.size() > options_.keep) recent_.pop_front();
    started_ = true;
    last_.head = head;
    if (more) {
      // Only part of the backlog: streams may send these changes, but no one may claim to
      // be current until a poll has read to the end.
      notified_ = true;
    } else {
      last_.at = at;
      ++last_.generation;
    }
  }
}

}  // namespace cdp::consent
