// The audit service's behaviour apart from gRPC: appending access events for enforcement
// points, signed tree heads and proofs for anyone the catalog knows, verification for
// auditors.
#ifndef CDP_SERVICES_AUDIT_AUDIT_API_H_
#define CDP_SERVICES_AUDIT_AUDIT_API_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "cdp/v1/audit.pb.h"
#include "consent/catalog.h"
#include "consent/receipt.h"
#include "services/audit/access_log.h"
#include "services/audit/event_store.h"

namespace cdp::audit {

class AuditApi {
 public:
  // Everything must outlive the API. Thread-safe.
  AuditApi(std::shared_ptr<const consent::Catalog> catalog, AccessLog& log, EventStore& store,
           const consent::ReceiptSigner& signer);

  // PERMISSION_DENIED without APPEND_ACCESS_EVENTS; INVALID_ARGUMENT naming the item and
  // field (events[i].customer_id, events[i].event.purpose, ...); UNAVAILABLE if the log
  // could not store them (then none is logged).
  absl::StatusOr<v1::AppendEventsResponse> AppendEvents(const std::string& caller,
                                                        const v1::AppendEventsRequest& request);
  // For any caller in the catalog.
  absl::StatusOr<v1::SignedTreeHead> GetSignedTreeHead(const std::string& caller);
  absl::StatusOr<v1::InclusionProof> GetInclusionProof(const std::string& caller,
                                                       const v1::GetInclusionProofRequest& request);
  absl::StatusOr<v1::ConsistencyProof> GetConsistencyProof(const std::string& caller,
                                                           const v1::GetConsistencyProofRequest& request);
  // READ_ACCESS_LOG only.
  absl::StatusOr<v1::VerifyLogResponse> VerifyLog(const std::string& caller);
  // One customer's access events, newest first, each with its explanation in the language
  // asked for ("nl", the default, or "en"). READ_CUSTOMER_ACCESS_EVENTS or READ_ACCESS_LOG.
  // A customer never read has no events (not an error).
  absl::StatusOr<v1::ListAccessEventsResponse> ListAccessEvents(const std::string& caller,
                                                                const v1::ListAccessEventsRequest& request);
  // Auditors (READ_ACCESS_LOG): events matching the request's filters, newest first,
  // explained. The auditor's look is logged first (justification.code required); if it
  // cannot be, nothing is returned (UNAVAILABLE).
  absl::StatusOr<v1::ListAccessEventsResponse> QueryAccessEvents(const std::string& caller,
                                                                 const v1::QueryAccessEventsRequest& request);
  // Every event matching the filters as CSV (with a header line) or JSON lines, handed to
  // `write` a chunk at a time (false from it stops the export). Logged like a query.
  absl::Status ExportAccessEvents(const std::string& caller, const v1::QueryAccessEventsRequest& request,
                                  const std::function<bool(const std::string& chunk)>& write);
  // Auditors: callers whose distinct customers in the latest window exceed factor x their
  // usual per-window count (and a minimum). Logged like a query.
  // ERASE_CUSTOMERS: forgets the customer's pseudonym, here and in the store.
  absl::StatusOr<v1::ForgetCustomerResponse> ForgetCustomer(const std::string& caller,
                                                            const v1::ForgetCustomerRequest& request);
  absl::StatusOr<v1::UnusualAccessReport> UnusualAccess(const std::string& caller,
                                                        const v1::UnusualAccessRequest& request);

 private:
  absl::Status Authorize(const std::string& caller, v1::Permission permission) const;
  absl::StatusOr<std::vector<std::string>> Pseudonyms(const std::vector<std::string>& customer_ids);
  // The store's filter for `request`, after checking it; `*none` when it names a customer
  // the log has never seen (nothing can match).
  absl::StatusOr<EventStore::Filter> FilterOf(const v1::QueryAccessEventsRequest& request, bool* none);
  // Up to `size` of `events` into `out`, parsed and explained, with the next page's token
  // when there are more.
  absl::Status Explained(const std::vector<StoredEvent>& events, int size, const std::string& language,
                         v1::ListAccessEventsResponse* out) const;
  // Logs that `caller` (an auditor, or a console for the person in `party`) looked at the
  // log. InvalidArgument without a justification or with a half-given party.
  absl::Status LogAuditorLook(const std::string& caller, const v1::Justification& justification,
                              const v1::ActingParty& party, const std::string& customer_id,
                              const std::string& what);

  std::shared_ptr<const consent::Catalog> catalog_;
  AccessLog& log_;
  EventStore& store_;
  const consent::ReceiptSigner& signer_;
  absl::TimeZone zone_;  // of explanations: Europe/Amsterdam
  absl::Mutex mu_;
  // Customer -> pseudonym, as stored; an erasure (ForgetCustomer) drops the entry.
  absl::flat_hash_map<std::string, std::string> pseudonyms_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cdp::audit

#endif  // CDP_SERVICES_AUDIT_AUDIT_API_H_
