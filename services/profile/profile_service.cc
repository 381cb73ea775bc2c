#include "services/profile/profile_service.h"

#include "consent/receipt.h"
#include "services/common/handler.h"

namespace cdp::profile {
namespace {

std::string RequestId(const grpc::ServerContextBase& context) {
  auto it = context.client_metadata().find("x-request-id");
  if (it != context.client_metadata().end() && !it->second.empty() && it->second.size() <= 128) {
    return std::string(it->second.data(), it->second.size());
  }
  return consent::NewUuid();
}

}  // namespace

grpc::ServerUnaryReactor* ProfileService::GetProfile(grpc::CallbackServerContext* context,
                                                     const v1::GetProfileRequest* request, v1::ProfileView* response) {
  const std::string request_id = RequestId(*context);
  return rpc::ServeUnaryAsync(context, response, [&](const std::string& c, Done<v1::ProfileView> done) {
    api_.GetProfileAsync(c, *request, request_id, std::move(done));
  });
}

grpc::Status ProfileService::BatchGetProfiles(grpc::ServerContext* context, const v1::BatchGetProfilesRequest* request,
                                              v1::BatchGetProfilesResponse* response) {
  const std::string request_id = RequestId(*context);
  return rpc::ServeUnary(context, response,
                         [&](const std::string& c) { return api_.BatchGetProfiles(c, *request, request_id); });
}

grpc::Status ProfileService::SearchProfiles(grpc::ServerContext* context, const v1::SearchProfilesRequest* request,
                                            v1::SearchProfilesResponse* response) {
  const std::string request_id = RequestId(*context);
  return rpc::ServeUnary(context, response,
                         [&](const std::string& c) { return api_.SearchProfiles(c, *request, request_id); });
}

}  // namespace cdp::profile
