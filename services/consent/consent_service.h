// The gRPC face of ConsentApi: takes the caller from the mTLS certificate, calls the API,
// converts the status. No behaviour of its own.
#ifndef CDP_SERVICES_CONSENT_CONSENT_SERVICE_H_
#define CDP_SERVICES_CONSENT_CONSENT_SERVICE_H_

#include <functional>

#include "cdp/v1/consent.grpc.pb.h"
#include "services/consent/consent_api.h"

namespace cdp::consent {

class ConsentService : public v1::ConsentService::Service {
 public:
  // `stopping` turns true when the process shuts down; open WatchConsent streams then end
  // with UNAVAILABLE so that replicas reconnect to another instance.
  ConsentService(ConsentApi& api, std::function<bool()> stopping)
      : api_(api), stopping_(std::move(stopping)) {}

  grpc::Status GetCatalog(grpc::ServerContext* context, const v1::GetCatalogRequest* request,
                          v1::Catalog* response) override;
  grpc::Status GetConsent(grpc::ServerContext* context, const v1::GetConsentRequest* request,
                          v1::ConsentState* response) override;
  grpc::Status UpdateConsent(grpc::ServerContext* context,
                             const v1::UpdateConsentRequest* request,
                             v1::UpdateConsentResponse* response) override;
  grpc::Status ListConsentHistory(grpc::ServerContext* context,
                                  const v1::ListConsentHistoryRequest* request,
                                  v1::ListConsentHistoryResponse* response) override;
  grpc::Status WatchConsent(grpc::ServerContext* context,
                            const v1::WatchConsentRequest* request,
                            grpc::ServerWriter<v1::WatchConsentResponse>* writer) override;
  grpc::Status RegisterCustomers(grpc::ServerContext* context,
                                 const v1::RegisterCustomersRequest* request,
                                 v1::RegisterCustomersResponse* response) override;
  grpc::Status EraseConsent(grpc::ServerContext* context, const v1::EraseConsentRequest* request,
                            v1::EraseConsentResponse* response) override;
  grpc::Status GetReceiptKey(grpc::ServerContext* context,
                             const v1::GetReceiptKeyRequest* request,
                             v1::ReceiptKey* response) override;

 private:
  ConsentApi& api_;
  std::function<bool()> stopping_;
};

}  // namespace cdp::consent

#endif  // CDP_SERVICES_CONSENT_CONSENT_SERVICE_H_
