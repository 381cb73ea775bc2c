// The gRPC face of AuditApi: caller from the certificate, status conversion.
#ifndef CDP_SERVICES_AUDIT_AUDIT_SERVICE_H_
#define CDP_SERVICES_AUDIT_AUDIT_SERVICE_H_

#include "cdp/v1/audit.grpc.pb.h"
#include "services/audit/audit_api.h"

namespace cdp::audit {

class AuditService : public v1::AuditService::Service {
 public:
  explicit AuditService(AuditApi& api) : api_(api) {}

  grpc::Status AppendEvents(grpc::ServerContext* context, const v1::AppendEventsRequest* request,
                            v1::AppendEventsResponse* response) override;
  grpc::Status GetSignedTreeHead(grpc::ServerContext* context, const v1::GetSignedTreeHeadRequest* request,
                                 v1::SignedTreeHead* response) override;
  grpc::Status GetInclusionProof(grpc::ServerContext* context, const v1::GetInclusionProofRequest* request,
                                 v1::InclusionProof* response) override;
  grpc::Status GetConsistencyProof(grpc::ServerContext* context, const v1::GetConsistencyProofRequest* request,
                                   v1::ConsistencyProof* response) override;
  grpc::Status ListAccessEvents(grpc::ServerContext* context, const v1::ListAccessEventsRequest* request,
                                v1::ListAccessEventsResponse* response) override;
  grpc::Status QueryAccessEvents(grpc::ServerContext* context, const v1::QueryAccessEventsRequest* request,
                                 v1::ListAccessEventsResponse* response) override;
  grpc::Status ExportAccessEvents(grpc::ServerContext* context, const v1::QueryAccessEventsRequest* request,
                                  grpc::ServerWriter<v1::ExportChunk>* writer) override;
  grpc::Status ForgetCustomer(grpc::ServerContext* context, const v1::ForgetCustomerRequest* request,
                              v1::ForgetCustomerResponse* response) override;
  grpc::Status UnusualAccess(grpc::ServerContext* context, const v1::UnusualAccessRequest* request,
                             v1::UnusualAccessReport* response) override;
  grpc::Status VerifyLog(grpc::ServerContext* context, const v1::VerifyLogRequest* request,
                         v1::VerifyLogResponse* response) override;

 private:
  AuditApi& api_;
};

}  // namespace cdp::audit

#endif  // CDP_SERVICES_AUDIT_AUDIT_SERVICE_H_
