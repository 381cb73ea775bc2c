// Erasure (GDPR Art. 17) as a job that survives crashes, and the feed of completed
// erasures that source systems follow (WatchErasures).
//
// A job is one row of rights.erasures (storage/migrations/rights/0002_erasures.sql) and
// runs these steps in order, each idempotent at the service that does it, recording each
// before the next:
//
//   requested       the row exists (the customer was known to the consent service)
//   profile_erased  ingest: the profile and every profile merged into it erased, their
//                   data keys destroyed; legal-retention fields sealed anew until their
//                   period ends (IngestService.EraseProfile); its answer is kept here
//   consent_erased  consent: the erasure change in the feed, the history emptied
//   log_unlinked    audit: the link from the customer to their pseudonym deleted
//   done            the signed receipt made and stored, a place in the erasure feed taken
//
// A step that fails leaves the job where it was; Erase answers UNAVAILABLE and
// ResumePending (run in the background, and at start-up) carries it on.
//
// Thread-safe.
#ifndef CDP_SERVICES_RIGHTS_ERASURE_H_
#define CDP_SERVICES_RIGHTS_ERASURE_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cdp/v1/consent.pb.h"
#include "cdp/v1/ingest.pb.h"
#include "cdp/v1/rights.pb.h"
#include "consent/catalog.h"
#include "consent/receipt.h"
#include "storage/pool.h"

namespace cdp::rights {

// What the other services do for an erasure; over gRPC in the service, faked in tests.
class ErasureServices {
 public:
  virtual ~ErasureServices() = default;
  // OK if the consent service knows the customer (and they are not erased), NotFound if not.
  virtual absl::Status CustomerKnown(const std::string& customer_id) = 0;
  virtual absl::StatusOr<v1::EraseProfileResponse> EraseProfile(const v1::EraseProfileRequest& request) = 0;
  virtual absl::Status EraseConsent(const std::string& customer_id) = 0;
  virtual absl::Status ForgetInLog(const std::string& customer_id) = 0;
  virtual absl::StatusOr<v1::PurgeExpiredRetentionResponse> PurgeExpiredRetention() = 0;
  // Customers with no source record changed at or after `before`, at most `limit`.
  virtual absl::StatusOr<std::vector<std::string>> InactiveCustomers(absl::Time before, int limit) = 0;
};

class Erasures {
 public:
  // Everything must outlive this.
  Erasures(std::shared_ptr<const consent::Catalog> catalog, storage::Pool& pool,
           const consent::ReceiptSigner& signer, ErasureServices& services,
           std::function<absl::Time()> clock);
  static std::vector<storage::Statement> Statements();

  // EraseCustomer: PERMISSION_DENIED without EXERCISE_RIGHTS; INVALID_ARGUMENT naming the
  // field (customer id, acting party, channel); NOT_FOUND for a customer the platform does
  // not know; the stored receipt for one erased before; UNAVAILABLE (the job goes on in the
  // background) when a service it needs does not answer.
  absl::StatusOr<v1::EraseCustomerResponse> Erase(const std::string& caller, const v1::EraseCustomerRequest& request);

  // Carries on every unfinished job; the first error, after trying them all.
  absl::Status ResumePending();

  // The retention job, run on a schedule. (1) Destroys what erasures kept for a legal
  // obligation once its period has ended. (2) Erases every customer whose relationship
  // has been over for longer than any purpose may keep their data: no source record
  // changed within the longest retention period of the catalog's purposes (legal
  // obligations aside, which then keep what they need through the erasure as always).
  // Each such erasure is a job like any other, by caller "retention", with a receipt.
  // Records the run (rights.retention_runs) and logs what it did.
  struct RetentionRun {
    int purged = 0;   // customers whose legally kept fields went
    int erased = 0;   // inactive customers erased
  };
  absl::StatusOr<RetentionRun> RunRetention();
  // The longest period, in days, for which a purpose other than a legal obligation keeps
  // data after the relationship ends (0: none has one, and (2) above does nothing).
  int CustomerRetentionDays() const;

  // WatchErasures: PERMISSION_DENIED without WATCH_ERASURES. Sends completed erasures after
  // request.after_seq (filtered to request.source_system's records), a heartbeat (seq 0)
  // once caught up, then polls every `poll` for new ones, with a heartbeat every
  // `heartbeat`, until `write` fails or `stopping` says so.
  absl::Status Watch(const std::string& caller, const v1::WatchErasuresRequest& request,
                     const std::function<bool(const v1::ErasureNotice&)>& write,
                     const std::function<bool()>& stopping, absl::Duration poll = absl::Milliseconds(200),
                     absl::Duration heartbeat = absl::Seconds(5));

 private:
  // Runs the steps of `customer_id`'s job from where it stands.
  absl::StatusOr<v1::EraseCustomerResponse> Run(const std::string& customer_id);
  std::vector<v1::RetentionRule> RetentionRules() const;

  std::shared_ptr<const consent::Catalog> catalog_;
  storage::Pool& pool_;
  const consent::ReceiptSigner& signer_;
  ErasureServices& services_;
  const std::function<absl::Time()> clock_;
};

}  // namespace cdp::rights

#endif  // CDP_SERVICES_RIGHTS_ERASURE_H_
