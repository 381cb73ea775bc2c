#include "services/audit/audit_service.h"

#include "services/common/handler.h"

namespace cdp::audit {

grpc::Status AuditService::AppendEvents(grpc::ServerContext* context, const v1::AppendEventsRequest* request,
                                        v1::AppendEventsResponse* response) {
  return rpc::ServeUnary(context, response, [&](const std::string& c) { return api_.AppendEvents(c, *request); });
}

grpc::Status AuditService::GetSignedTreeHead(grpc::ServerContext* context, const v1::GetSignedTreeHeadRequest*,
                                             v1::SignedTreeHead* response) {
  return rpc::ServeUnary(context, response, [&](const std::string& c) { return api_.GetSignedTreeHead(c); });
}

grpc::Status AuditService::GetInclusionProof(grpc::ServerContext* context,
                                             const v1::GetInclusionProofRequest* request,
                                             v1::InclusionProof* response) {
  return rpc::ServeUnary(context, response,
                         [&](const std::string& c) { return api_.GetInclusionProof(c, *request); });
}

grpc::Status AuditService::GetConsistencyProof(grpc::ServerContext* context,
                                               const v1::GetConsistencyProofRequest* request,
                                               v1::ConsistencyProof* response) {
  return rpc::ServeUnary(context, response,
                         [&](const std::string& c) { return api_.GetConsistencyProof(c, *request); });
}

grpc::Status AuditService::ListAccessEvents(grpc::ServerContext* context, const v1::ListAccessEventsRequest* request,
                                            v1::ListAccessEventsResponse* response) {
  return rpc::ServeUnary(context, response,
                         [&](const std::string& c) { return api_.ListAccessEvents(c, *request); });
}

grpc::Status AuditService::QueryAccessEvents(grpc::ServerContext* context,
                                             const v1::QueryAccessEventsRequest* request,
                                             v1::ListAccessEventsResponse* response) {
  return rpc::ServeUnary(context, response,
                         [&](const std::string& c) { return api_.QueryAccessEvents(c, *request); });
}

grpc::Status AuditService::ExportAccessEvents(grpc::ServerContext* context,
                                              const v1::QueryAccessEventsRequest* request,
                                              grpc::ServerWriter<v1::ExportChunk>* writer) {
  absl::StatusOr<rpc::Caller> caller = rpc::CallerOf(*context);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  return rpc::ToGrpcStatus(api_.ExportAccessEvents(caller->id, *request, [&](const std::string& data) {
    v1::ExportChunk chunk;
    chunk.set_data(data);
    return writer->Write(chunk);
  }));
}

grpc::Status AuditService::ForgetCustomer(grpc::ServerContext* context, const v1::ForgetCustomerRequest* request,
                                          v1::ForgetCustomerResponse* response) {
  return rpc::ServeUnary(context, response, [&](const std::string& c) { return api_.ForgetCustomer(c, *request); });
}

grpc::Status AuditService::UnusualAccess(grpc::ServerContext* context, const v1::UnusualAccessRequest* request,
                                         v1::UnusualAccessReport* response) {
  return rpc::ServeUnary(context, response, [&](const std::string& c) { return api_.UnusualAccess(c, *request); });
}

grpc::Status AuditService::VerifyLog(grpc::ServerContext* context, const v1::VerifyLogRequest*,
                                     v1::VerifyLogResponse* response) {
  return rpc::ServeUnary(context, response, [&](const std::string& c) { return api_.VerifyLog(c); });
}

}  // namespace cdp::audit
