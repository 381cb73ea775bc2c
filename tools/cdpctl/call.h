// What every cdpctl command that calls a service shares.
#ifndef CDP_TOOLS_CDPCTL_CALL_H_
#define CDP_TOOLS_CDPCTL_CALL_H_

#include <chrono>
#include <cstdio>
#include <memory>

#include "absl/status/status.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/status.h"

namespace cdp::cdpctl {

// Prints "cdpctl: CODE: message" and returns exit code 1.
inline int Refused(const grpc::Status& s) {
  std::fprintf(stderr, "cdpctl: %s: %s\n",
               absl::StatusCodeToString(static_cast<absl::StatusCode>(s.error_code())).c_str(),
               s.error_message().c_str());
  return 1;
}

// A call context with a deadline.
inline std::unique_ptr<grpc::ClientContext> CallContext(int seconds = 30) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  return ctx;
}

}  // namespace cdp::cdpctl

#endif  // CDP_TOOLS_CDPCTL_CALL_H_
