// cdpctl's read-path commands: a consent-enforced read (ProfileService) and the access log
// (AuditService): the signed head, a customer's explained accesses, verification, and
// proofs checked on this machine with nothing but the proofs and the log's public key.
#ifndef CDP_TOOLS_CDPCTL_LOG_COMMANDS_H_
#define CDP_TOOLS_CDPCTL_LOG_COMMANDS_H_

#include <memory>
#include <string>
#include <vector>

#include "grpcpp/channel.h"

namespace cdp::cdpctl {

extern const char kLogUsage[];

// `read ...` or `log <sub> ...`. Exit code: 0 done (for checks: verified), 1 refused or
// not verified, 2 bad usage.
int RunReadCommand(const std::vector<std::string>& args, const std::shared_ptr<grpc::Channel>& channel);
int RunLogCommand(const std::vector<std::string>& args, const std::shared_ptr<grpc::Channel>& channel);

}  // namespace cdp::cdpctl

#endif  // CDP_TOOLS_CDPCTL_LOG_COMMANDS_H_
