// Follows the consent change feed for every WatchConsent stream of one process.
//
// One poller thread reads new changes from the store: at once when this process commits
// one (Notify), otherwise every poll interval, which also picks up changes committed by
// other instances of the service. It keeps the most recent changes in memory so that
// streams that are up to date never touch the database, and counts successful polls: a
// stream may promise its client "nothing newer as of that poll" only after one, so while
// the database cannot be read no such promise is made and replicas go stale, as they
// must.
#ifndef CDP_SERVICES_CONSENT_CHANGE_FEED_H_
#define CDP_SERVICES_CONSENT_CHANGE_FEED_H_

#include <cstdint>
#include <deque>
#include <optional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "cdp/v1/consent.pb.h"
#include "services/consent/consent_store.h"

namespace cdp::consent {

class ChangeFeed {
 public:
  struct Options {
    absl::Duration poll_interval = absl::Milliseconds(20);
    size_t keep = 65536;   // changes kept in memory
  };
  // Starts the poller; `store` must outlive the feed. Thread-safe.
  ChangeFeed(ConsentStore& store, Options options);
  ~ChangeFeed();
  ChangeFeed(const ChangeFeed&) = delete;
  ChangeFeed& operator=(const ChangeFeed&) = delete;

  // This process committed a change: poll now.
  void Notify();

  struct Poll {
    uint64_t generation = 0;  // polls so far that read everything there was
    int64_t head = 0;         // the feed's last position as of that poll
    absl::Time at;            // when the poll read the database
  };
  // The latest successful poll, waiting up to `timeout` for one newer than
  // `after_generation`.
  Poll WaitForPoll(uint64_t after_generation, absl::Duration timeout) const;

  // The changes after `position` (at most `max`) if memory still reaches back that far and
  // a poll has seen `position`; nullopt otherwise (read them from the store).
  std::optional<std::vector<v1::CustomerConsent>> Since(int64_t position, size_t max) const;

 private:
  void Run();

  ConsentStore& store_;
  const Options options_;
  mutable absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool notified_ ABSL_GUARDED_BY(mu_) = false;
  bool started_ ABSL_GUARDED_BY(mu_) = false;  // head_ is known
  Poll last_ ABSL_GUARDED_BY(mu_);
  std::deque<v1::CustomerConsent> recent_ ABSL_GUARDED_BY(mu_);
  std::thread poller_;
};

}  // namespace cdp::consent

#endif  // CDP_SERVICES_CONSENT_CHANGE_FEED_H_
