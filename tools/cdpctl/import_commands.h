// cdpctl import (source files into the ingest service) and generate (demo and test data).
#ifndef CDP_TOOLS_CDPCTL_IMPORT_COMMANDS_H_
#define CDP_TOOLS_CDPCTL_IMPORT_COMMANDS_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "grpcpp/channel.h"

namespace cdp::cdpctl {

extern const char kImportUsage[];

// `import FILE` (args[0] == "import"); `connect` makes the channel to the ingest service.
int RunImport(const std::vector<std::string>& args,
              const std::function<std::shared_ptr<grpc::Channel>()>& connect);
// `generate` (args[0] == "generate"): writes the four source files and the truth.
int RunGenerate(const std::vector<std::string>& args);

}  // namespace cdp::cdpctl

#endif  // CDP_TOOLS_CDPCTL_IMPORT_COMMANDS_H_
