#include "services/profile/remote.h"

#include "absl/strings/str_cat.h"
#include "cdp/v1/audit.grpc.pb.h"
#include "cdp/v1/ingest.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "services/common/grpc_status.h"
#include "services/common/log.h"
#include "services/common/status_macros.h"

namespace cdp::profile {
namespace {

void SetDeadline(grpc::ClientContext& ctx, absl::Duration d) {
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + d));
}

// A call to the ingest service that failed for the platform's reasons: its caller is told
// only that profiles cannot be read, so the log keeps the code (never the message).
void LogIngestFailure(std::string_view method, const absl::Status& s) {
  log::Warning("ingest_call_failed", {{"method", method}, {"code", absl::StatusCodeToString(s.code())}});
}

// One asynchronous unary call on `channel`: `start(stub, ctx, request, response, callback)`
// starts it; `done` gets the response or the call's status. The channel learns of the
// outcome (a failed one is replaced).
template <typename Service, typename Request, typename Response, typename Start>
void CallAsync(rpc::RenewingChannel& channel, absl::Duration deadline, Request request, Start start,
               Done<Response> done) {
  struct Call {
    grpc::ClientContext ctx;
    std::shared_ptr<grpc::Channel> used;
    std::unique_ptr<typename Service::Stub> stub;
    Request request;
    Response response;
    Done<Response> done;
  };
  auto* call = new Call;
  SetDeadline(call->ctx, deadline);
  call->used = channel.get();
  call->stub = Service::NewStub(call->used);
  call->request = std::move(request);
  call->done = std::move(done);
  start(*call->stub, &call->ctx, &call->request, &call->response, [call, &channel](grpc::Status status) {
    std::unique_ptr<Call> owned(call);
    absl::Status s = rpc::FromGrpcStatus(status);
    channel.Observe(s.code(), owned->used);
    if (!s.ok()) return std::move(owned->done)(std::move(s));
    std::move(owned->done)(std::move(owned->response));
  });
}

}  // namespace

void RemoteProfileSource::GetManyAsync(std::vector<std::string> profile_ids, Done<ProfileAnswers> done) {
  v1::GetUnifiedProfilesRequest req;
  for (std::string& id : profile_ids) req.add_profile_ids(std::move(id));
  const int asked = req.profile_ids_size();
  CallAsync<v1::IngestService, v1::GetUnifiedProfilesRequest, v1::GetUnifiedProfilesResponse>(
      channel_, deadline_, std::move(req),
      [](auto& stub, auto* ctx, auto* request, auto* response, auto callback) {
        stub.async()->GetUnifiedProfiles(ctx, request, response, std::move(callback));
      },
      [asked, done = std::move(done)](absl::StatusOr<v1::GetUnifiedProfilesResponse> resp) mutable {
        if (!resp.ok()) {
          // The caller learns whether a profile exists; the ingest service's other troubles
          // are the platform's, not the caller's.
          if (absl::IsInvalidArgument(resp.status())) return std::move(done)(resp.status());
          LogIngestFailure("GetUnifiedProfiles", resp.status());
          return std::move(done)(absl::UnavailableError("profiles cannot be read right now"));
        }
        if (resp->answers_size() != asked) {
          LogIngestFailure("GetUnifiedProfiles", absl::InternalError("answered for other ids"));
          return std::move(done)(absl::UnavailableError("profiles cannot be read right now"));
        }
        ProfileAnswers out;
        out.reserve(static_cast<size_t>(asked));
        for (auto& answer : *resp->mutable_answers()) {
          if (answer.has_profile()) {
            out.emplace_back(std::make_shared<const v1::UnifiedProfile>(std::move(*answer.mutable_profile())));
          } else {
            out.emplace_back(absl::NotFoundError(absl::StrCat("profile_id: ", answer.not_found())));
          }
        }
        std::move(done)(std::move(out));
      });
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
    LogIngestFailure("FindProfiles", s);
    return absl::UnavailableError("profiles cannot be searched right now");
  }
  return out;
}

void RemoteAccessLog::AppendAsync(v1::AppendEventsRequest request, Done<v1::AppendEventsResponse> done) {
  CallAsync<v1::AuditService, v1::AppendEventsRequest, v1::AppendEventsResponse>(
      channel_, deadline_, std::move(request),
      [](auto& stub, auto* ctx, auto* req, auto* resp, auto callback) {
        stub.async()->AppendEvents(ctx, req, resp, std::move(callback));
      },
      std::move(done));
}

CoalescingProfileSource::CoalescingProfileSource(ProfileSource& next)
    : next_(next),
      coalescer_(
          [this](std::vector<std::vector<std::string>> requests, AsyncCoalescer<std::vector<std::string>, ProfileAnswers>::Answer answer) {
            std::vector<std::string> ids;
            std::vector<size_t> sizes;
            for (auto& r : requests) {
              sizes.push_back(r.size());
              for (std::string& id : r) ids.push_back(std::move(id));
            }
            const size_t asked = ids.size();
            next_.GetManyAsync(std::move(ids), [asked, sizes = std::move(sizes), answer = std::move(answer)](
                                                   absl::StatusOr<ProfileAnswers> all) mutable {
              if (!all.ok()) return std::move(answer)(all.status());
              if (all->size() != asked) return std::move(answer)(absl::InternalError("profiles answered for other ids"));
              std::vector<ProfileAnswers> out(sizes.size());
              size_t at = 0;
              for (size_t i = 0; i < sizes.size(); ++i) {
                for (size_t n = 0; n < sizes[i]; ++n) out[i].push_back(std::move((*all)[at++]));
              }
              std::move(answer)(std::move(out));
            });
          },
          {.senders = 1,
           .max_weight = 1000,
           .weight = [](const std::vector<std::string>& ids) { return static_cast<int>(ids.size()); }}) {}

void CoalescingProfileSource::GetManyAsync(std::vector<std::string> profile_ids, Done<ProfileAnswers> done) {
  if (profile_ids.empty()) return std::move(done)(ProfileAnswers());
  coalescer_.Call(std::move(profile_ids), std::move(done));
}

}  // namespace cdp::profile
