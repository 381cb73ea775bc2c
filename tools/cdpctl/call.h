// What every cdpctl command that calls a service shares.
#ifndef CDP_TOOLS_CDPCTL_CALL_H_
#define CDP_TOOLS_CDPCTL_CALL_H_

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "cdp/v1/common.pb.h"
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

// "KIND[:ID]" (e.g. "human_agent:agent-7", kinds as in ActingParty.Kind, any case) into
// `party`; false if KIND is not one.
inline bool ParseActingParty(const std::string& text, v1::ActingParty* party) {
  std::vector<std::string> p = absl::StrSplit(text, absl::MaxSplits(':', 1));
  v1::ActingParty::Kind kind;
  if (p.empty() || !v1::ActingParty::Kind_Parse(absl::AsciiStrToUpper(p[0]), &kind)) return false;
  party->set_kind(kind);
  if (p.size() == 2) party->set_id(p[1]);
  return true;
}

}  // namespace cdp::cdpctl

#endif  // CDP_TOOLS_CDPCTL_CALL_H_
