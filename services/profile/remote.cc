#include "services/profile/remote.h"

#include "absl/strings/str_cat.h"
#include "cdp/v1/audit.grpc.pb.h"
#include "cdp/v1/ingest.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "services/common/grpc_status.h"
#include "services/common/status_macros.h"

namespace cdp::profile {
namespace {

void SetDeadline(grpc::ClientContext& ctx, absl::Duration d) {
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + d));
}

}  // namespace

absl::StatusOr<std::vector<absl::StatusOr<v1::UnifiedProfile>>> RemoteProfileSource::GetMany(
    const std::vector<std::string>& profile_ids) {
  grpc::ClientContext ctx;
  SetDeadline(ctx, deadline_);
  v1::GetUnifiedProfilesRequest req;
  for (const std::string& id : profile_ids) req.add_profile_ids(id);
  v1::GetUnifiedProfilesResponse resp;
  const auto used = channel_.get();
  absl::Status s =
      rpc::FromGrpcStatus(v1::IngestService::NewStub(used)->GetUnifiedProfiles(&ctx, req, &resp));
  channel_.Observe(s.code(), used);
  if (!s.ok()) {
    // The caller learns whether a profile exists; the ingest service's other troubles are
    // the platform's, not the caller's.
    if (absl::IsInvalidArgument(s)) return s;
    return absl::UnavailableError("profiles cannot be read right now");
  }
  if (resp.answers_size() != req.profile_ids_size()) return absl::UnavailableError("profiles cannot be read right now");
  std::vector<absl::StatusOr<v1::UnifiedProfile>> out;
  out.reserve(profile_ids.size());
  for (auto& answer : *resp.mutable_answers()) {
    if (answer.has_profile()) {
      out.emplace_back(std::move(*answer.mutable_profile()));
    } else {
      out.emplace_back(absl::NotFoundError(absl::StrCat("profile_id: ", answer.not_found())));
    }
  }
  return out;
}

absl::StatusOr<v1::FindProfilesResponse> RemoteProfileSource::Find(const v1::FindProfilesRequest& request) {
  grpc::ClientContext ctx;
  SetDeadline(ctx, deadline_);
  v1::FindProfilesResponse out;
  const auto used = channel_.get();
  absl::Status s = rpc::FromGrpcStatus(v1::IngestService::NewStub(used)->FindProfiles(&ctx, request, &out));
  channel_.Observe(s.code(), used);
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
  const auto used = channel_.get();
  absl::Status s = rpc::FromGrpcStatus(v1::AuditService::NewStub(used)->AppendEvents(&ctx, request, &out));
  channel_.Observe(s.code(), used);
  if (!s.ok()) return s;
  return out;
}

CoalescingProfileSource::CoalescingProfileSource(ProfileSource& next)
    : next_(next),
      coalescer_(
          [this](const std::vector<const std::vector<std::string>*>& requests) -> absl::StatusOr<std::vector<Answers>> {
            std::vector<std::string> ids;
            for (const auto* r : requests) ids.insert(ids.end(), r->begin(), r->end());
            ASSIGN_OR_RETURN(Answers all, next_.GetMany(ids));
            if (all.size() != ids.size()) return absl::InternalError("profiles answered for other ids");
            std::vector<Answers> out(requests.size());
            size_t at = 0;
            for (size_t i = 0; i < requests.size(); ++i) {
              for (size_t n = 0; n < requests[i]->size(); ++n) out[i].push_back(std::move(all[at++]));
            }
            return out;
          },
          {.senders = 1,
           .max_weight = 1000,
           .weight = [](const std::vector<std::string>& ids) { return static_cast<int>(ids.size()); }}) {}

absl::StatusOr<std::vector<absl::StatusOr<v1::UnifiedProfile>>> CoalescingProfileSource::GetMany(
    const std::vector<std::string>& profile_ids) {
  if (profile_ids.empty()) return Answers();
  return coalescer_.Call(profile_ids);
}

}  // namespace cdp::profile
