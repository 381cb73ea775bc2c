#include "services/common/caller.h"

#include "grpc/grpc_security_constants.h"

namespace cdp::rpc {

absl::StatusOr<Caller> CallerFromAuthContext(const grpc::AuthContext& auth) {
  if (!auth.IsPeerAuthenticated()) {
    return absl::UnauthenticatedError("no verified client certificate");
  }
  std::vector<grpc::string_ref> uris = auth.FindPropertyValues(GRPC_PEER_URI_PROPERTY_NAME);
  if (uris.size() != 1) {
    return absl::PermissionDeniedError(
        uris.empty() ? "client certificate has no URI SAN"
                     : "client certificate has more than one URI SAN");
  }
  return Caller{std::string(uris[0].data(), uris[0].size())};
}

absl::StatusOr<Caller> CallerOf(const grpc::ServerContextBase& context) {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr) return absl::UnauthenticatedError("no authentication context");
  return CallerFromAuthContext(*auth);
}

}  // namespace cdp::rpc
