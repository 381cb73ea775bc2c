// Files a service needs before it can serve, loaded from flags: on any problem the process
// exits with status 2 and one line naming the flag, the file and what is wrong
// (server::ExitWithConfigError), and logs what it loaded (versions and key ids, no
// secrets).
#ifndef CDP_SERVICES_COMMON_CONFIG_FILES_H_
#define CDP_SERVICES_COMMON_CONFIG_FILES_H_

#include <memory>
#include <string>

#include "consent/catalog.h"
#include "consent/receipt.h"

namespace cdp::server {

// The consent catalog at `path` (`flag` names the flag in messages).
std::shared_ptr<const consent::Catalog> LoadCatalogOrExit(const std::string& flag, const std::string& path);
// An Ed25519 private key (PEM) for signing.
std::unique_ptr<consent::ReceiptSigner> LoadSignerOrExit(const std::string& flag, const std::string& path);

}  // namespace cdp::server

#endif  // CDP_SERVICES_COMMON_CONFIG_FILES_H_
