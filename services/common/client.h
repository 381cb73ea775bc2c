// Client side of gRPC's standard protocols against platform services: health checking
// (grpc.health.v1) and server reflection (grpc.reflection.v1alpha). Used by cdpctl, the
// local runner and tests.
#ifndef CDP_SERVICES_COMMON_CLIENT_H_
#define CDP_SERVICES_COMMON_CLIENT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"

namespace cdp::rpc {

// "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN" or "UNKNOWN" for `service` ("" = the whole
// server). The status of the RPC itself (e.g. Unavailable when the TLS handshake fails).
absl::StatusOr<std::string> CheckHealth(grpc::Channel& channel, const std::string& service,
                                        absl::Duration timeout);

// Polls CheckHealth until it answers SERVING or `timeout` passes (DeadlineExceeded with the
// last answer or error). Waits on the channel's connectivity between attempts.
absl::Status WaitUntilServing(grpc::Channel& channel, const std::string& service,
                              absl::Duration timeout);

// Full names of the services the server lists through reflection.
absl::StatusOr<std::vector<std::string>> ListServices(grpc::Channel& channel,
                                                      absl::Duration timeout);

}  // namespace cdp::rpc

#endif  // CDP_SERVICES_COMMON_CLIENT_H_
