// The consent service's behaviour, apart from gRPC: each method takes the verified caller
// (certificate URI SAN) and the request and returns the response or a status whose code and
// message go to the client unchanged (see proto/cdp/v1/consent.proto for the codes).
#ifndef CDP_SERVICES_CONSENT_CONSENT_API_H_
#define CDP_SERVICES_CONSENT_CONSENT_API_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cdp/v1/consent.pb.h"
#include "consent/catalog.h"
#include "consent/receipt.h"
#include "services/consent/change_feed.h"
#include "services/consent/consent_store.h"

namespace cdp::consent {

class ConsentApi {
 public:
  struct Options {
    // How long a WatchConsent stream waits for a poll before checking for shutdown again.
    absl::Duration watch_wait = absl::Milliseconds(100);
    std::function<absl::Time()> now = [] { return absl::Now(); };
  };
  // Everything must outlive the API. Thread-safe.
  ConsentApi(std::shared_ptr<const Catalog> catalog, ConsentStore& store,
             const ReceiptSigner& signer, ChangeFeed& feed, Options options);

  absl::StatusOr<v1::Catalog> GetCatalog(const std::string& caller) const;
  absl::StatusOr<v1::ConsentState> GetConsent(const std::string& caller,
                                              const v1::GetConsentRequest& request) const;
  absl::StatusOr<v1::UpdateConsentResponse> UpdateConsent(const std::string& caller,
                                                          const v1::UpdateConsentRequest& request);
  absl::StatusOr<v1::ListConsentHistoryResponse> ListConsentHistory(
      const std::string& caller, const v1::ListConsentHistoryRequest& request) const;
  absl::StatusOr<v1::RegisterCustomersResponse> RegisterCustomers(
      const std::string& caller, const v1::RegisterCustomersRequest& request);
  absl::StatusOr<v1::ReceiptKey> GetReceiptKey(const std::string& caller) const;
  // ERASE_CUSTOMERS; NOT_FOUND for an unknown customer; idempotent (see ConsentStore::Erase).
  absl::StatusOr<v1::EraseConsentResponse> EraseConsent(const std::string& caller,
                                                        const v1::EraseConsentRequest& request);

  // Sends the snapshot (or the changes after the resume point), then every change and a
  // heartbeat after each poll that found the stream current. Returns when `write` returns
  // false (the client went away: Cancelled) or `stopping` returns true (Unavailable, so the
  // client reconnects elsewhere), or with the store's error.
  absl::Status WatchConsent(const std::string& caller, const v1::WatchConsentRequest& request,
                            const std::function<bool(const v1::WatchConsentResponse&)>& write,
                            const std::function<bool()>& stopping) const;

 private:
  // The caller's catalog entry; PermissionDenied if unknown or lacking `permission`
  // (PERMISSION_UNSPECIFIED: any known caller).
  absl::StatusOr<const v1::CallerDef*> Authorize(const std::string& caller,
                                                 v1::Permission permission) const;

  std::shared_ptr<const Catalog> catalog_;
  ConsentStore& store_;
  const ReceiptSigner& signer_;
  ChangeFeed& feed_;
  const Options options_;
};

}  // namespace cdp::consent

#endif  // CDP_SERVICES_CONSENT_CONSENT_API_H_
