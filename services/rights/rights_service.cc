#include "services/rights/rights_service.h"

#include "services/common/caller.h"
#include "services/common/grpc_status.h"
#include "services/common/handler.h"

namespace cdp::rights {

grpc::Status RightsService::ExportMyData(grpc::ServerContext* context, const v1::ExportMyDataRequest* request,
                                         v1::ExportMyDataResponse* response) {
  return rpc::ServeUnary(context, response, [&](const std::string& c) { return api_.ExportMyData(c, *request); });
}

grpc::Status RightsService::EraseCustomer(grpc::ServerContext* context, const v1::EraseCustomerRequest* request,
                                          v1::EraseCustomerResponse* response) {
  return rpc::ServeUnary(context, response, [&](const std::string& c) { return erasures_.Erase(c, *request); });
}

grpc::Status RightsService::RestrictProcessing(grpc::ServerContext* context,
                                               const v1::RestrictProcessingRequest* request,
                                               v1::RestrictProcessingResponse* response) {
  return rpc::ServeUnary(context, response,
                         [&](const std::string& c) { return api_.RestrictProcessing(c, *request); });
}

grpc::Status RightsService::WatchErasures(grpc::ServerContext* context, const v1::WatchErasuresRequest* request,
                                          grpc::ServerWriter<v1::ErasureNotice>* writer) {
  absl::StatusOr<rpc::Caller> caller = rpc::CallerOf(*context);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  return rpc::ToGrpcStatus(erasures_.Watch(
      caller->id, *request,
      [&](const v1::ErasureNotice& n) { return !context->IsCancelled() && writer->Write(n); },
      [&] { return stopping_() || context->IsCancelled(); }));
}

}  // namespace cdp::rights
