// The one shape of a unary gRPC handler: caller from the verified certificate, the call,
// the status converted at the edge. Services' gRPC classes are made of these.
#ifndef CDP_SERVICES_COMMON_HANDLER_H_
#define CDP_SERVICES_COMMON_HANDLER_H_

#include <string>
#include <utility>

#include "grpcpp/server_context.h"
#include "grpcpp/support/status.h"
#include "services/common/caller.h"
#include "services/common/grpc_status.h"

namespace cdp::rpc {

// Runs `call(caller_id)` (returning absl::StatusOr<Response>) and moves its value into
// `response`; any error status goes to the client with its code and message.
template <typename Response, typename Call>
grpc::Status ServeUnary(grpc::ServerContext* context, Response* response, Call call) {
  absl::StatusOr<Caller> caller = CallerOf(*context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  auto result = call(caller->id);
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

}  // namespace cdp::rpc

#endif  // CDP_SERVICES_COMMON_HANDLER_H_
