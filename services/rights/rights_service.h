// The gRPC face of RightsApi and Erasures: caller from the certificate, status conversion.
#ifndef CDP_SERVICES_RIGHTS_RIGHTS_SERVICE_H_
#define CDP_SERVICES_RIGHTS_RIGHTS_SERVICE_H_

#include <functional>

#include "cdp/v1/rights.grpc.pb.h"
#include "services/rights/erasure.h"
#include "services/rights/rights_api.h"

namespace cdp::rights {

class RightsService : public v1::RightsService::Service {
 public:
  // `stopping` ends WatchErasures streams when the process is told to stop.
  RightsService(RightsApi& api, Erasures& erasures, std::function<bool()> stopping)
      : api_(api), erasures_(erasures), stopping_(std::move(stopping)) {}
  grpc::Status ExportMyData(grpc::ServerContext* context, const v1::ExportMyDataRequest* request,
                            v1::ExportMyDataResponse* response) override;
  grpc::Status EraseCustomer(grpc::ServerContext* context, const v1::EraseCustomerRequest* request,
                             v1::EraseCustomerResponse* response) override;
  grpc::Status RestrictProcessing(grpc::ServerContext* context, const v1::RestrictProcessingRequest* request,
                                  v1::RestrictProcessingResponse* response) override;
  grpc::Status WatchErasures(grpc::ServerContext* context, const v1::WatchErasuresRequest* request,
                             grpc::ServerWriter<v1::ErasureNotice>* writer) override;

 private:
  RightsApi& api_;
  Erasures& erasures_;
  std::function<bool()> stopping_;
};

}  // namespace cdp::rights

#endif  // CDP_SERVICES_RIGHTS_RIGHTS_SERVICE_H_
