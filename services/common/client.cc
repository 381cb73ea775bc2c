#include "services/common/client.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "health.grpc.pb.h"
#include "reflection.grpc.pb.h"
#include "services/common/grpc_status.h"

namespace cdp::rpc {
namespace {

std::chrono::system_clock::time_point Deadline(absl::Duration timeout) {
  return absl::ToChronoTime(absl::Now() + timeout);
}

}  // namespace

absl::StatusOr<std::string> CheckHealth(grpc::Channel& channel, const std::string& service,
                                        absl::Duration timeout) {
  auto stub = grpc::health::v1::Health::NewStub(
      std::shared_ptr<grpc::Channel>(&channel, [](grpc::Channel*) {}));
  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline(timeout));
  grpc::health::v1::HealthCheckRequest req;
  req.set_service(service);
  grpc::health::v1::HealthCheckResponse resp;
  grpc::Status s = stub->Check(&ctx, req, &resp);
  if (!s.ok()) return FromGrpcStatus(s);
  return grpc::health::v1::HealthCheckResponse::ServingStatus_Name(resp.status());
}

absl::Status WaitUntilServing(grpc::Channel& channel, const std::string& service,
                              absl::Duration timeout) {
  absl::Time end = absl::Now() + timeout;
  std::string last = "no answer";
  while (absl::Now() < end) {
    auto status = CheckHealth(channel, service, std::min(absl::Seconds(2), end - absl::Now()));
    if (status.ok() && *status == "SERVING") return absl::OkStatus();
    last = status.ok() ? *status : std::string(status.status().message());
    // Block until the channel changes state or a short interval passes, instead of spinning.
    channel.WaitForStateChange(channel.GetState(true),
                               Deadline(std::min(absl::Milliseconds(200), end - absl::Now())));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("not SERVING within ", absl::FormatDuration(timeout), ": ", last));
}

absl::StatusOr<std::vector<std::string>> ListServices(grpc::Channel& channel,
                                                      absl::Duration timeout) {
  auto stub = grpc::reflection::v1alpha::ServerReflection::NewStub(
      std::shared_ptr<grpc::Channel>(&channel, [](grpc::Channel*) {}));
  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline(timeout));
  auto stream = stub->ServerReflectionInfo(&ctx);
  grpc::reflection::v1alpha::ServerReflectionRequest req;
  req.set_list_services("");
  grpc::reflection::v1alpha::ServerReflectionResponse resp;
  std::vector<std::string> names;
  if (stream->Write(req) && stream->WritesDone() && stream->Read(&resp)) {
    for (const auto& s : resp.list_services_response().service()) names.push_back(s.name());
  }
  grpc::Status s = stream->Finish();
  if (!s.ok()) return FromGrpcStatus(s);
  return names;
}

}  // namespace cdp::rpc
