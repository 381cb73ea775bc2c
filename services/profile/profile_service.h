// The gRPC face of ProfileApi: caller from the certificate, request id from the
// "x-request-id" metadata (or a new one), status conversion.
//
// GetProfile, the hot path, is a callback method: no thread waits while its event goes to
// the audit service; the call finishes on the thread that hears the log's answer.
#ifndef CDP_SERVICES_PROFILE_PROFILE_SERVICE_H_
#define CDP_SERVICES_PROFILE_PROFILE_SERVICE_H_

#include "cdp/v1/profile.grpc.pb.h"
#include "services/profile/profile_api.h"

namespace cdp::profile {

class ProfileService : public v1::ProfileService::WithCallbackMethod_GetProfile<v1::ProfileService::Service> {
 public:
  explicit ProfileService(ProfileApi& api) : api_(api) {}

  grpc::ServerUnaryReactor* GetProfile(grpc::CallbackServerContext* context, const v1::GetProfileRequest* request,
                                       v1::ProfileView* response) override;
  grpc::Status BatchGetProfiles(grpc::ServerContext* context, const v1::BatchGetProfilesRequest* request,
                                v1::BatchGetProfilesResponse* response) override;
  grpc::Status SearchProfiles(grpc::ServerContext* context, const v1::SearchProfilesRequest* request,
                              v1::SearchProfilesResponse* response) override;

 private:
  ProfileApi& api_;
};

}  // namespace cdp::profile

#endif  // CDP_SERVICES_PROFILE_PROFILE_SERVICE_H_
