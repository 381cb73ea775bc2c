#include "services/rights/rights_service.h"

#include "services/common/handler.h"

namespace cdp::rights {

grpc::Status RightsService::ExportMyData(grpc::ServerContext* context, const v1::ExportMyDataRequest* request,
                                         v1::ExportMyDataResponse* response) {
  return rpc::ServeUnary(context, response, [&](const std::string& c) { return api_.ExportMyData(c, *request); });
}

grpc::Status RightsService::RestrictProcessing(grpc::ServerContext* context,
                                               const v1::RestrictProcessingRequest* request,
                                               v1::RestrictProcessingResponse* response) {
  return rpc::ServeUnary(context, response,
                         [&](const std::string& c) { return api_.RestrictProcessing(c, *request); });
}

}  // namespace cdp::rights
