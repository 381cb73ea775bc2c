#include "services/ingest/ingest_service.h"

#include "absl/time/clock.h"
#include "services/common/caller.h"
#include "services/common/grpc_status.h"
#include "services/common/handler.h"

namespace cdp::ingest {

grpc::Status IngestService::WriteRecords(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::WriteRecordsResponse, v1::WriteRecordsRequest>* stream) {
  absl::StatusOr<rpc::Caller> caller = rpc::CallerOf(*context);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  v1::WriteRecordsRequest batch;
  while (stream->Read(&batch)) {
    auto acks = api_.WriteBatch(caller->id, batch);
    if (!acks.ok()) return rpc::ToGrpcStatus(acks.status());
    if (!stream->Write(*acks)) return grpc::Status(grpc::StatusCode::CANCELLED, "the client went away");
  }
  return grpc::Status::OK;
}

grpc::Status IngestService::MergeProfiles(grpc::ServerContext* context,
                                          const v1::MergeProfilesRequest* request,
                                          v1::MergeProfilesResponse* response) {
  return rpc::ServeUnary(context, response, [&](const std::string& c) { return api_.MergeProfiles(c, *request); });
}

grpc::Status IngestService::UnmergeProfile(grpc::ServerContext* context,
                                           const v1::UnmergeProfileRequest* request,
                                           v1::UnmergeProfileResponse* response) {
  return rpc::ServeUnary(context, response, [&](const std::string& c) { return api_.UnmergeProfile(c, *request); });
}

grpc::Status IngestService::ListMatchCandidates(grpc::ServerContext* context,
                                                const v1::ListMatchCandidatesRequest* request,
                                                v1::ListMatchCandidatesResponse* response) {
  return rpc::ServeUnary(context, response,
               [&](const std::string& c) { return api_.ListMatchCandidates(c, *request); });
}

grpc::Status IngestService::FindProfiles(grpc::ServerContext* context, const v1::FindProfilesRequest* request,
                                        v1::FindProfilesResponse* response) {
  return rpc::ServeUnary(context, response, [&](const std::string& c) { return api_.FindProfiles(c, *request); });
}

grpc::Status IngestService::GetUnifiedProfile(grpc::ServerContext* context,
                                              const v1::GetUnifiedProfileRequest* request,
                                              v1::UnifiedProfile* response) {
  return rpc::ServeUnary(context, response,
               [&](const std::string& c) { return api_.GetUnifiedProfile(c, *request); });
}

grpc::Status IngestService::GetUnifiedProfiles(grpc::ServerContext* context,
                                               const v1::GetUnifiedProfilesRequest* request,
                                               v1::GetUnifiedProfilesResponse* response) {
  return rpc::ServeUnary(context, response,
                         [&](const std::string& c) { return api_.GetUnifiedProfiles(c, *request); });
}

grpc::Status IngestService::EraseProfile(grpc::ServerContext* context, const v1::EraseProfileRequest* request,
                                         v1::EraseProfileResponse* response) {
  return rpc::ServeUnary(context, response, [&](const std::string& c) { return api_.EraseProfile(c, *request); });
}

grpc::Status IngestService::PurgeExpiredRetention(grpc::ServerContext* context,
                                                  const v1::PurgeExpiredRetentionRequest*,
                                                  v1::PurgeExpiredRetentionResponse* response) {
  return rpc::ServeUnary(context, response,
                         [&](const std::string& c) { return api_.PurgeExpiredRetention(c, absl::Now()); });
}

grpc::Status IngestService::ListInactiveProfiles(grpc::ServerContext* context,
                                                 const v1::ListInactiveProfilesRequest* request,
                                                 v1::ListInactiveProfilesResponse* response) {
  return rpc::ServeUnary(context, response, [&](const std::string& c) { return api_.ListInactiveProfiles(c, *request); });
}

grpc::Status IngestService::WatchProfileChanges(grpc::ServerContext* context,
                                               const v1::WatchProfileChangesRequest* request,
                                               grpc::ServerWriter<v1::ProfileChanges>* writer) {
  absl::StatusOr<rpc::Caller> caller = rpc::CallerOf(*context);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  int64_t seq = request->after_seq();
  for (bool first = true; !stopping_() && !context->IsCancelled(); first = false) {
    if (!first) absl::SleepFor(absl::Milliseconds(20));
    auto changes = api_.ProfileChangesSince(caller->id, seq);
    if (!changes.ok()) return rpc::ToGrpcStatus(changes.status());
    if (!writer->Write(*changes)) break;
    seq = changes->seq();
  }
  return grpc::Status::OK;
}

}  // namespace cdp::ingest
