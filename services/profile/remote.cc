#include "services/profile/remote.h"

#include "cdp/v1/audit.grpc.pb.h"
#include "cdp/v1/ingest.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "services/common/grpc_status.h"

namespace cdp::profile {
namespace {

void SetDeadline(grpc::ClientContext& ctx, absl::Duration d) {
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + d));
}

}  // namespace

absl::StatusOr<v1::UnifiedProfile> RemoteProfileSource::Get(const std::string& profile_id) {
  grpc::ClientContext ctx;
  SetDeadline(ctx, deadline_);
  v1::GetUnifiedProfileRequest req;
  req.set_profile_id(profile_id);
  v1::UnifiedProfile out;
  absl::Status s = rpc::FromGrpcStatus(v1::IngestService::NewStub(channel_.get())->GetUnifiedProfile(&ctx, req, &out));
  channel_.Observe(s.code());
  if (!s.ok()) {
    // The caller learns whether the profile exists; the ingest service's other troubles
    // are the platform's, not the caller's.
    if (absl::IsNotFound(s) || absl::IsInvalidArgument(s)) return s;
    return absl::UnavailableError("profiles cannot be read right now");
  }
  return out;
}

absl::StatusOr<v1::FindProfilesResponse> RemoteProfileSource::Find(const v1::FindProfilesRequest& request) {
  grpc::ClientContext ctx;
  SetDeadline(ctx, deadline_);
  v1::FindProfilesResponse out;
  absl::Status s = rpc::FromGrpcStatus(v1::IngestService::NewStub(channel_.get())->FindProfiles(&ctx, request, &out));
  channel_.Observe(s.code());
  if (!s.ok()) {
    if (absl::IsInvalidArgument(s)) return s;  // names the key that does not parse
    return absl::UnavailableError("profiles cannot be searched right now");
  }
  return out;
}

absl::StatusOr<v1::AppendEventsResponse> RemoteAccessLog::Append(const v1::AppendEventsRequest& request) {
  grpc::ClientContext ctx;
  SetDeadline(ctx, deadline_);
  v1::AppendEventsResponse out;
  absl::Status s = rpc::FromGrpcStatus(v1::AuditService::NewStub(channel_.get())->AppendEvents(&ctx, request, &out));
  channel_.Observe(s.code());
  if (!s.ok()) return s;
  return out;
}

}  // namespace cdp::profile
