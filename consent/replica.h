// A consent replica for enforcement points: a versioned in-memory copy of every customer's
// choices, fed by ConsentService.WatchConsent over mTLS.
//
// It starts with a snapshot, then applies every change in feed order; after a disconnect it
// reconnects (with back-off) and resumes after the last position it holds, so nothing is
// lost; if the service cannot resume there, it takes a new snapshot. It is "current" while
// the service's last heartbeat (sent after each poll that found nothing newer) arrived
// within the staleness bound. A lookup when it is not current fails with UNAVAILABLE:
// deciding from stale consent is never allowed.
//
// The bound is measured from the heartbeat's arrival; the time it spent in flight is not
// counted (on one host, well under a millisecond). Choose the bound several poll
// intervals long (the service polls every 20 ms by default).
#ifndef CDP_CONSENT_REPLICA_H_
#define CDP_CONSENT_REPLICA_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "consent/catalog.h"
#include "consent/decision.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"

namespace cdp::consent {

// One customer's consent as the replica holds it.
struct ReplicaEntry {
  CustomerChoices choices;
  CompiledChoices compiled;   // against the replica's catalog
};

// What a read needs: the catalog and one customer's choices, both immutable, shared.
struct ConsentView {
  std::shared_ptr<const Catalog> catalog;
  std::shared_ptr<const ReplicaEntry> entry;
  int64_t version() const { return entry->choices.version; }
  Decision Decide(PurposeId purpose, FieldId field, absl::Time now) const {
    return consent::Decide(*catalog, entry->compiled, purpose, field, now);
  }
};

class ConsentReplica {
 public:
  struct Options {
    // Makes a channel to the consent service (mTLS). Called again after a connection
    // fails, so that a replica never stays stuck on a broken channel.
    std::function<std::shared_ptr<grpc::Channel>()> connect;
    absl::Duration staleness_bound = absl::Milliseconds(100);
    absl::Duration max_backoff = absl::Seconds(2);
    std::function<absl::Time()> now = [] { return absl::Now(); };
    // Optional: called on the replica's thread after each change is applied and visible to
    // lookups (for metrics and propagation measurements). Must not block.
    std::function<void(const std::string& customer_id, int64_t version)> on_applied;
  };

  // Starts following the service at once, on a thread of its own.
  explicit ConsentReplica(Options options);
  // Stops following and joins the thread.
  ~ConsentReplica();
  ConsentReplica(const ConsentReplica&) = delete;
  ConsentReplica& operator=(const ConsentReplica&) = delete;

  // The customer's consent for one read. Unavailable if the replica cannot confirm it is
  // current within the bound, or holds a version below `min_version` for this customer
  // (a caller may demand the version it saw elsewhere); NotFound if the service does not
  // know the customer. Thread-safe and cheap: no I/O, one shared lock.
  absl::StatusOr<ConsentView> Lookup(std::string_view customer_id, int64_t min_version = 0) const;

  // Lookup + the decision by names, at the replica's clock.
  absl::StatusOr<Decision> Decide(std::string_view customer_id, std::string_view purpose,
                                  std::string_view field) const;

  struct Health {
    bool current = false;        // a lookup now would not be refused for staleness
    bool synced = false;         // holds a complete snapshot
    int64_t position = 0;        // last feed position applied
    absl::Duration since_confirmed = absl::InfiniteDuration();
    int64_t customers = 0;
    int64_t reconnects = 0;
    std::string catalog_version;
    absl::Status last_error;     // why the last connection ended
  };
  Health health() const;

  // Blocks until the replica is current, or `timeout` passes (DeadlineExceeded).
  absl::Status WaitUntilCurrent(absl::Duration timeout) const;
  // Blocks until the replica holds `version` or newer of `customer_id`.
  absl::Status WaitForVersion(std::string_view customer_id, int64_t version,
                              absl::Duration timeout) const;

 private:
  void Run();
  // One connection: returns when the stream ends, with its status.
  absl::Status FollowOnce(const std::shared_ptr<grpc::Channel>& channel);
  absl::Status FetchCatalog(const std::shared_ptr<grpc::Channel>& channel);

  const Options options_;
  mutable absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  grpc::ClientContext* active_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::shared_ptr<const Catalog> catalog_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::shared_ptr<const ReplicaEntry>> customers_
      ABSL_GUARDED_BY(mu_);
  bool synced_ ABSL_GUARDED_BY(mu_) = false;
  int64_t position_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time confirmed_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  int64_t reconnects_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status last_error_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace cdp::consent

#endif  // CDP_CONSENT_REPLICA_H_
