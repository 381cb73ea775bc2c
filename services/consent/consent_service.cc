#include "services/consent/consent_service.h"

#include "services/common/caller.h"
#include "services/common/grpc_status.h"
#include "services/common/handler.h"

namespace cdp::consent {

grpc::Status ConsentService::GetCatalog(grpc::ServerContext* context,
                                        const v1::GetCatalogRequest*, v1::Catalog* response) {
  return rpc::ServeUnary(context, response, [&](const std::string& caller) { return api_.GetCatalog(caller); });
}

grpc::Status ConsentService::GetConsent(grpc::ServerContext* context,
                                        const v1::GetConsentRequest* request,
                                        v1::ConsentState* response) {
  return rpc::ServeUnary(context, response,
               [&](const std::string& caller) { return api_.GetConsent(caller, *request); });
}

grpc::Status ConsentService::UpdateConsent(grpc::ServerContext* context,
                                           const v1::UpdateConsentRequest* request,
                                           v1::UpdateConsentResponse* response) {
  return rpc::ServeUnary(context, response,
               [&](const std::string& caller) { return api_.UpdateConsent(caller, *request); });
}

grpc::Status ConsentService::ListConsentHistory(grpc::ServerContext* context,
                                                const v1::ListConsentHistoryRequest* request,
                                                v1::ListConsentHistoryResponse* response) {
  return rpc::ServeUnary(context, response, [&](const std::string& caller) {
    return api_.ListConsentHistory(caller, *request);
  });
}

grpc::Status ConsentService::RegisterCustomers(grpc::ServerContext* context,
                                               const v1::RegisterCustomersRequest* request,
                                               v1::RegisterCustomersResponse* response) {
  return rpc::ServeUnary(context, response, [&](const std::string& caller) {
    return api_.RegisterCustomers(caller, *request);
  });
}

grpc::Status ConsentService::GetReceiptKey(grpc::ServerContext* context,
                                           const v1::GetReceiptKeyRequest*,
                                           v1::ReceiptKey* response) {
  return rpc::ServeUnary(context, response,
               [&](const std::string& caller) { return api_.GetReceiptKey(caller); });
}

grpc::Status ConsentService::EraseConsent(grpc::ServerContext* context,
                                          const v1::EraseConsentRequest* request,
                                          v1::EraseConsentResponse* response) {
  return rpc::ServeUnary(context, response,
                         [&](const std::string& caller) { return api_.EraseConsent(caller, *request); });
}

grpc::Status ConsentService::WatchConsent(grpc::ServerContext* context,
                                          const v1::WatchConsentRequest* request,
                                          grpc::ServerWriter<v1::WatchConsentResponse>* writer) {
  absl::StatusOr<rpc::Caller> caller = rpc::CallerOf(*context);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  return rpc::ToGrpcStatus(api_.WatchConsent(
      caller->id, *request,
      [&](const v1::WatchConsentResponse& msg) {
        return !context->IsCancelled() && writer->Write(msg);
      },
      [&] { return stopping_() || context->IsCancelled(); }));
}

}  // namespace cdp::consent
