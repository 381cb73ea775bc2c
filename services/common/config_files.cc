#include "services/common/config_files.h"

#include "absl/strings/str_cat.h"
#include "services/common/log.h"
#include "services/common/service_host.h"

namespace cdp::server {

std::shared_ptr<const consent::Catalog> LoadCatalogOrExit(const std::string& flag, const std::string& path) {
  if (path.empty()) {
    ExitWithConfigError(absl::StrCat("--", flag, " is required (e.g. consent/catalog/default.textproto)"));
  }
  auto catalog = consent::Catalog::FromFile(path);
  if (!catalog.ok()) ExitWithConfigError(absl::StrCat("--", flag, " ", catalog.status().message()));
  log::Info("catalog_loaded", {{"version", (*catalog)->version()},
                               {"fields", (*catalog)->field_count()},
                               {"purposes", (*catalog)->purpose_count()}});
  return *std::move(catalog);
}

std::unique_ptr<consent::ReceiptSigner> LoadSignerOrExit(const std::string& flag, const std::string& path) {
  if (path.empty()) {
    ExitWithConfigError(absl::StrCat("--", flag, " is required (an Ed25519 private key in PEM; make one with "
                                     "`openssl genpkey -algorithm ed25519`)"));
  }
  auto signer = consent::ReceiptSigner::FromPemFile(path);
  if (!signer.ok()) ExitWithConfigError(absl::StrCat("--", flag, " ", signer.status().message()));
  log::Info("signing_key_loaded", {{"flag", flag}, {"key_id", (*signer)->key_id()}});
  return *std::move(signer);
}

}  // namespace cdp::server
