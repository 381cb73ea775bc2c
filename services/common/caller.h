// The identity of the service on the other end of a call, taken from its verified mTLS
// client certificate, never from a request field.
#ifndef CDP_SERVICES_COMMON_CALLER_H_
#define CDP_SERVICES_COMMON_CALLER_H_

#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/security/auth_context.h"
#include "grpcpp/server_context.h"

namespace cdp::rpc {

// The caller's URI SAN, e.g. "spiffe://cdp.local/service/support-desk".
struct Caller {
  std::string id;
};

// Returns the single URI SAN of the authenticated peer. Unauthenticated if the peer
// presented no verified certificate, PermissionDenied if the certificate has no URI SAN or
// more than one (the identity would be ambiguous).
absl::StatusOr<Caller> CallerFromAuthContext(const grpc::AuthContext& auth);

// Same, from a server call's context.
absl::StatusOr<Caller> CallerOf(const grpc::ServerContextBase& context);

}  // namespace cdp::rpc

#endif  // CDP_SERVICES_COMMON_CALLER_H_
