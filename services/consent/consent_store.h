// Where the consent service keeps customers' choices: an append-only history of changes,
// each with the customer's complete state after it, and a service-wide change feed in
// which every change has a position (1, 2, 3, ... without gaps, visible in order).
#ifndef CDP_SERVICES_CONSENT_CONSENT_STORE_H_
#define CDP_SERVICES_CONSENT_CONSENT_STORE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cdp/v1/consent.pb.h"

namespace cdp::consent {

// Who made a change, when and how.
struct ChangeMeta {
  absl::Time at;
  v1::Channel channel = v1::CHANNEL_UNSPECIFIED;
  v1::ActingParty acting_party;
  std::string caller;           // certificate URI SAN of the calling service
  std::string catalog_version;
};

struct UpdateRequest {
  std::string customer_id;
  // Validated, with given_at and channel set.
  std::vector<v1::ConsentChoice> choices;
  std::string idempotency_key;
  std::string request_sha256;   // of the request as received, to spot a reused key
  int64_t expected_version = 0; // 0: any
  ChangeMeta meta;
  // Validated; applied with MergeRestriction (consent/state.h) to the current restriction.
  std::optional<v1::RestrictionChange> restriction;
};

struct UpdateResult {
  int64_t version = 0;
  int64_t position = 0;
  v1::ConsentReceipt receipt;
  bool replayed = false;        // an earlier identical request's result
};

// Makes the receipt of a change once its new version is known.
using ReceiptMaker = std::function<v1::ConsentReceipt(int64_t version)>;

// Thread-safe.
class ConsentStore {
 public:
  virtual ~ConsentStore() = default;

  // Adds the customers not yet known, each with an empty state at version 0 and a
  // registration entry in the history and the feed. Returns how many were new.
  virtual absl::StatusOr<int> RegisterCustomers(const std::vector<std::string>& customer_ids,
                                                const ChangeMeta& meta) = 0;

  // The customer's current state (position, version, choices). NotFound if unknown or
  // erased.
  virtual absl::StatusOr<v1::CustomerConsent> Current(const std::string& customer_id) = 0;

  // Applies the change atomically: NotFound for an unknown customer; the stored result if
  // the idempotency key was used before with the same request_sha256, FailedPrecondition if
  // with another (or for a restriction change MergeRestriction refuses); Aborted ("consent version is 7, not 5") if expected_version is set and
  // not current. Never loses a concurrent change: updates of one customer are serialised.
  virtual absl::StatusOr<UpdateResult> Update(const UpdateRequest& request,
                                              const ReceiptMaker& make_receipt) = 0;

  // Erases a customer: appends a change marked erased (no choices) and empties every
  // earlier change of theirs (see storage/migrations/consent/0004_erasure.sql). NotFound
  // for an unknown customer; erasing again empties what is left and answers the same
  // position. Current, Update and History then answer NotFound for them.
  struct EraseResult {
    int64_t position = 0;
    int changes_emptied = 0;
    bool already = false;
  };
  virtual absl::StatusOr<EraseResult> Erase(const std::string& customer_id, const ChangeMeta& meta) = 0;

  // A customer's history, newest first: at most `limit` changes with version below
  // `before_version` (0: from the newest). NotFound if the customer is unknown.
  virtual absl::StatusOr<std::vector<v1::ConsentChange>> History(const std::string& customer_id,
                                                                 int64_t before_version,
                                                                 int limit) = 0;

  // Changes after `after_position`, in order, at most `limit`, as full states.
  virtual absl::StatusOr<std::vector<v1::CustomerConsent>> Feed(int64_t after_position,
                                                                int limit) = 0;

  // The last position of the feed.
  virtual absl::StatusOr<int64_t> Head() = 0;

  // Every customer's current state, as of one consistent moment whose feed position is
  // passed to `begin` first; `each` is called per customer in pages. A status other than
  // OK from a callback stops the scan and is returned.
  virtual absl::Status Snapshot(const std::function<absl::Status(int64_t head)>& begin,
                                const std::function<absl::Status(const v1::CustomerConsent&)>& each) = 0;
};

}  // namespace cdp::consent

#endif  // CDP_SERVICES_CONSENT_CONSENT_STORE_H_
