// cdpctl's profile commands against the ingest service: show, review, merge, unmerge.
#ifndef CDP_TOOLS_CDPCTL_PROFILE_COMMANDS_H_
#define CDP_TOOLS_CDPCTL_PROFILE_COMMANDS_H_

#include <memory>
#include <string>
#include <vector>

#include "grpcpp/channel.h"

namespace cdp::cdpctl {

extern const char kProfileUsage[];

// `profile <sub> ...` (args[0] == "profile"). Exit code: 0 done, 1 refused, 2 bad usage.
int RunProfileCommand(const std::vector<std::string>& args,
                      const std::shared_ptr<grpc::Channel>& channel);

}  // namespace cdp::cdpctl

#endif  // CDP_TOOLS_CDPCTL_PROFILE_COMMANDS_H_
