// The one place where absl::Status becomes grpc::Status, at the edge of each service.
#ifndef CDP_SERVICES_COMMON_GRPC_STATUS_H_
#define CDP_SERVICES_COMMON_GRPC_STATUS_H_

#include <string>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace cdp::rpc {

// Same code and message.
grpc::Status ToGrpcStatus(const absl::Status& status);

// The inverse, for clients that call other services.
absl::Status FromGrpcStatus(const grpc::Status& status);

// InvalidArgument naming the offending field first: "customer_id: must not be empty".
absl::Status InvalidField(const std::string& field, const std::string& description);

}  // namespace cdp::rpc

#endif  // CDP_SERVICES_COMMON_GRPC_STATUS_H_
