// The gRPC face of IngestApi: caller from the certificate, status conversion, streaming.
#ifndef CDP_SERVICES_INGEST_INGEST_SERVICE_H_
#define CDP_SERVICES_INGEST_INGEST_SERVICE_H_

#include <functional>

#include "cdp/v1/ingest.grpc.pb.h"
#include "services/ingest/ingest_api.h"

namespace cdp::ingest {

// WriteRecords is a callback method (a stream's batches are worked on a thread of its own,
// see ingest_service.cc); the other methods are synchronous handlers.
class IngestService : public v1::IngestService::WithCallbackMethod_WriteRecords<v1::IngestService::Service> {
 public:
  // `stopping` says when long-lived streams should end (the process is told to stop).
  IngestService(IngestApi& api, std::function<bool()> stopping) : api_(api), stopping_(std::move(stopping)) {}

  grpc::ServerBidiReactor<v1::WriteRecordsRequest, v1::WriteRecordsResponse>* WriteRecords(
      grpc::CallbackServerContext* context) override;
  grpc::Status MergeProfiles(grpc::ServerContext* context, const v1::MergeProfilesRequest* request,
                             v1::MergeProfilesResponse* response) override;
  grpc::Status UnmergeProfile(grpc::ServerContext* context,
                              const v1::UnmergeProfileRequest* request,
                              v1::UnmergeProfileResponse* response) override;
  grpc::Status ListMatchCandidates(grpc::ServerContext* context,
                                   const v1::ListMatchCandidatesRequest* request,
                                   v1::ListMatchCandidatesResponse* response) override;
  grpc::Status FindProfiles(grpc::ServerContext* context, const v1::FindProfilesRequest* request,
                            v1::FindProfilesResponse* response) override;
  grpc::Status GetUnifiedProfile(grpc::ServerContext* context,
                                 const v1::GetUnifiedProfileRequest* request,
                                 v1::UnifiedProfile* response) override;
  grpc::Status GetUnifiedProfiles(grpc::ServerContext* context, const v1::GetUnifiedProfilesRequest* request,
                                  v1::GetUnifiedProfilesResponse* response) override;
  grpc::Status EraseProfile(grpc::ServerContext* context, const v1::EraseProfileRequest* request,
                            v1::EraseProfileResponse* response) override;
  grpc::Status PurgeExpiredRetention(grpc::ServerContext* context, const v1::PurgeExpiredRetentionRequest* request,
                                     v1::PurgeExpiredRetentionResponse* response) override;
  grpc::Status ListInactiveProfiles(grpc::ServerContext* context, const v1::ListInactiveProfilesRequest* request,
                                    v1::ListInactiveProfilesResponse* response) override;
  grpc::Status WatchProfileChanges(grpc::ServerContext* context, const v1::WatchProfileChangesRequest* request,
                                   grpc::ServerWriter<v1::ProfileChanges>* writer) override;

 private:
  IngestApi& api_;
  std::function<bool()> stopping_;
};

}  // namespace cdp::ingest

#endif  // CDP_SERVICES_INGEST_INGEST_SERVICE_H_
