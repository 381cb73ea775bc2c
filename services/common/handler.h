// The one shape of a unary gRPC handler: caller from the verified certificate, the call,
// the status converted at the edge. Services' gRPC classes are made of these.
#ifndef CDP_SERVICES_COMMON_HANDLER_H_
#define CDP_SERVICES_COMMON_HANDLER_H_

#include <string>
#include <utility>

#include "grpcpp/server_context.h"
#include "grpcpp/support/server_callback.h"
#include "grpcpp/support/status.h"
#include "services/common/async.h"
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

// The same for a callback handler: `call(caller_id, done)` starts the work and calls
// `done` (an absl::StatusOr<Response>) once, on any thread; the call is finished there.
// Returns the reactor to hand back to gRPC.
template <typename Response, typename Call>
grpc::ServerUnaryReactor* ServeUnaryAsync(grpc::CallbackServerContext* context, Response* response, Call call) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Caller> caller = CallerOf(*context);
  if (!caller.ok()) {
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  call(caller->id, Done<Response>([reactor, response](absl::StatusOr<Response> result) {
    if (!result.ok()) return reactor->Finish(ToGrpcStatus(result.status()));
    *response = *std::move(result);
    reactor->Finish(grpc::Status::OK);
  }));
  return reactor;
}

}  // namespace cdp::rpc

#endif  // CDP_SERVICES_COMMON_HANDLER_H_
