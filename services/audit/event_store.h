// Where the access log keeps its events and signed tree heads (PostgreSQL in production,
// pg_event_store.h; an in-memory fake in tests).
#ifndef CDP_SERVICES_AUDIT_EVENT_STORE_H_
#define CDP_SERVICES_AUDIT_EVENT_STORE_H_

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "consent/catalog.h"
#include "services/audit/merkle.h"

namespace cdp::audit {

// The purpose of an auditor's look at the log (consent/catalog.h): logged by AuditApi like
// any access, explained as such, and left out of the unusual-access counts.
inline constexpr const char* kAccessLogReview = consent::kAccessLogReviewPurpose;

// One event as stored: `entry` is the exact byte string hashed into the tree (see
// AccessLog), the other fields copy what queries filter on.
struct StoredEvent {
  int64_t position = 0;
  std::string event_id;
  absl::Time recorded_at;
  std::string subject_pseudonym;
  std::string caller;
  std::string acting_party_id;
  std::string purpose;
  std::string outcome;               // "released" or "denied"
  // The fields requested, released or withheld: sorted, each once, joined by single spaces
  // (field names have none; see FieldsColumn).
  std::string fields;
  std::string entry;
  Hash leaf_hash{};
};

// A signed tree head: the JWS (Ed25519) over {"tree_size", "root_hash", "timestamp"}.
struct TreeHead {
  int64_t tree_size = 0;
  Hash root_hash{};
  absl::Time signed_at;
  std::string key_id;
  std::string signature;  // the compact JWS
};

// Thread-safe.
class EventStore {
 public:
  virtual ~EventStore() = default;

  // Stores `events`, whose positions follow those of the events committed before them
  // (AccessLog's pipeline commits only in that order), in one transaction:
  // all of them durably, or none (then Unavailable, or Aborted if another writer took
  // one of the positions). `before_commit`, if given, runs once the events are written,
  // before the commit; an error from it abandons the transaction and is returned. Without
  // it, the events are written and committed in one statement.
  virtual absl::Status Append(const std::vector<StoredEvent>& events,
                              const std::function<absl::Status()>& before_commit) = 0;
  // Calls `visit` with every stored event from position `from` up to (not including)
  // `to`, in position order, until it returns an error (which is returned). DataLoss when
  // a stored event's columns cannot be read as an event (the verifier names it as
  // changed); other errors are the store's own.
  static constexpr int64_t kEnd = std::numeric_limits<int64_t>::max();
  // The leaf hashes of the stored events from position `from` on, in order, without their
  // entries (what the tree is rebuilt from at start-up and after a failed commit).
  // DataLoss naming the first missing position if the positions have a gap.
  virtual absl::StatusOr<std::vector<Hash>> LeafHashes(int64_t from) = 0;
  virtual absl::Status Scan(int64_t from, int64_t to,
                            const std::function<absl::Status(const StoredEvent&)>& visit) = 0;

  // The pseudonym of each customer, in the order given, made on first use.
  virtual absl::StatusOr<std::vector<std::string>> Pseudonyms(const std::vector<std::string>& customer_ids) = 0;

  // Deletes the link from a customer to their pseudonym; false if there was none.
  virtual absl::StatusOr<bool> ForgetSubject(const std::string& customer_id) = 0;
  // The pseudonym of a customer, if the log has one (it has none for a customer never read).
  virtual absl::StatusOr<std::optional<std::string>> FindPseudonym(const std::string& customer_id) = 0;
  // The events about `pseudonym` before `before_position`, newest first, at most `limit`;
  // without those under `skip_purpose` by acting party `skip_actor`, when both are given.
  virtual absl::StatusOr<std::vector<StoredEvent>> EventsOf(const std::string& pseudonym, int64_t before_position,
                                                            int limit, const std::string& skip_purpose = "",
                                                            const std::string& skip_actor = "") = 0;

  // Auditors' filters; empty strings and infinite times match everything.
  struct Filter {
    std::string caller, acting_party_id, purpose, field, outcome, subject_pseudonym;
    absl::Time from = absl::InfinitePast(), to = absl::InfiniteFuture();
  };
  // Events matching `filter` before `before_position`, newest first, at most `limit`.
  virtual absl::StatusOr<std::vector<StoredEvent>> Query(const Filter& filter, int64_t before_position,
                                                         int limit) = 0;

  // Per caller: distinct customers read in [now - window, now), and the mean per window
  // over the `baseline` windows before it (auditors' own reviews left out).
  struct CallerActivity {
    std::string caller;
    int64_t customers = 0;
    double usual = 0;
  };
  virtual absl::StatusOr<std::vector<CallerActivity>> ActivityByCaller(absl::Time now, absl::Duration window,
                                                                       int baseline) = 0;

  virtual absl::Status SaveTreeHead(const TreeHead& head) = 0;
  // The latest signed tree head, if any.
  virtual absl::StatusOr<std::optional<TreeHead>> LatestTreeHead() = 0;
  // Every signed tree head, oldest first.
  virtual absl::StatusOr<std::vector<TreeHead>> TreeHeads() = 0;
};

}  // namespace cdp::audit

#endif  // CDP_SERVICES_AUDIT_EVENT_STORE_H_
