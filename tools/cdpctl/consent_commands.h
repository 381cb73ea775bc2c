// cdpctl's consent commands: register, show, set, history, verify-receipt.
#ifndef CDP_TOOLS_CDPCTL_CONSENT_COMMANDS_H_
#define CDP_TOOLS_CDPCTL_CONSENT_COMMANDS_H_

#include <memory>
#include <string>
#include <vector>

#include "grpcpp/channel.h"

namespace cdp::cdpctl {

// Usage lines for --help.
extern const char kConsentUsage[];

// Runs `consent <sub> ...` (args[0] == "consent") or `verify-receipt FILE`. `channel` may be
// null for commands that need no service (verify-receipt with --public_key). Returns the
// exit code: 0 done, 1 the service refused or failed, 2 bad usage.
int RunConsentCommand(const std::vector<std::string>& args,
                      const std::shared_ptr<grpc::Channel>& channel);

}  // namespace cdp::cdpctl

#endif  // CDP_TOOLS_CDPCTL_CONSENT_COMMANDS_H_
