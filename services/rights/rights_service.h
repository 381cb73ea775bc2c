// The gRPC face of RightsApi: caller from the certificate, status conversion.
#ifndef CDP_SERVICES_RIGHTS_RIGHTS_SERVICE_H_
#define CDP_SERVICES_RIGHTS_RIGHTS_SERVICE_H_

#include "cdp/v1/rights.grpc.pb.h"
#include "services/rights/rights_api.h"

namespace cdp::rights {

// EraseCustomer is not built yet: it answers UNIMPLEMENTED.
class RightsService : public v1::RightsService::Service {
 public:
  explicit RightsService(RightsApi& api) : api_(api) {}
  grpc::Status ExportMyData(grpc::ServerContext* context, const v1::ExportMyDataRequest* request,
                            v1::ExportMyDataResponse* response) override;
  grpc::Status RestrictProcessing(grpc::ServerContext* context, const v1::RestrictProcessingRequest* request,
                                  v1::RestrictProcessingResponse* response) override;

 private:
  RightsApi& api_;
};

}  // namespace cdp::rights

#endif  // CDP_SERVICES_RIGHTS_RIGHTS_SERVICE_H_
