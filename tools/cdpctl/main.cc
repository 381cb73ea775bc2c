// cdpctl: the one command-line tool for operators, auditors and scripts.
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "tools/cdpctl/auditor_commands.h"
#include "tools/cdpctl/consent_commands.h"
#include "tools/cdpctl/import_commands.h"
#include "tools/cdpctl/log_commands.h"
#include "tools/cdpctl/profile_commands.h"
#include "tools/cdpctl/rights_commands.h"
#include "absl/time/time.h"
#include "consent/catalog.h"
#include "services/common/client.h"
#include "services/common/flags.h"
#include "services/common/tls.h"

ABSL_FLAG(std::string, target, "127.0.0.1:7101", "host:port of the service to talk to");
ABSL_FLAG(std::string, tls_cert, "", "PEM client certificate (its URI SAN is who you are)");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of the client certificate");
ABSL_FLAG(std::string, tls_ca, "", "PEM CA certificate of the platform");
ABSL_FLAG(std::string, service, "", "health: the gRPC service to ask about (empty: the server)");
ABSL_FLAG(absl::Duration, wait, absl::ZeroDuration(),
          "health: keep asking until SERVING or this much time passed (e.g. 30s)");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(5), "deadline of each call");

namespace {

constexpr char kUsage[] =
    "cdpctl: command-line tool of the customer-data platform\n"
    "\n"
    "Usage: cdpctl <command> [flags]\n"
    "\n"
    "Commands:\n"
    "  health     ask a service's gRPC health status; exit 0 only if SERVING\n"
    "  services   list the gRPC services a server exposes (server reflection)\n"
    "  check-catalog FILE\n"
    "             validate a consent catalog file; errors name file:line and the offender\n"
    "%s"
    "%s"
    "%s"
    "%s"
    "%s"
    "%s"
    "\n"
    "Every call uses mTLS: give --tls_cert, --tls_key and --tls_ca (or CDP_TLS_CERT, ...).\n"
    "deploy/local/run.sh prints the values for the local platform.";

int Fail(const std::string& message) {
  std::fprintf(stderr, "cdpctl: %s\n", message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string usage =
      absl::StrFormat(kUsage, cdp::cdpctl::kConsentUsage, cdp::cdpctl::kImportUsage,
                      cdp::cdpctl::kProfileUsage, cdp::cdpctl::kLogUsage,
                      cdp::cdpctl::kRightsUsage, cdp::cdpctl::kAuditorUsage);
  std::vector<std::string> args = cdp::ParseFlagsOrExit(argc, argv, usage);
  if (!args.empty() && args[0] == "check-catalog") {
    if (args.size() != 2) {
      std::fprintf(stderr, "cdpctl: check-catalog needs exactly one FILE\n");
      return 2;
    }
    auto catalog = cdp::consent::Catalog::FromFile(args[1]);
    if (!catalog.ok()) return Fail(std::string(catalog.status().message()));
    std::printf("%s: catalog %s is valid: %d fields, %d purposes, %d callers\n", args[1].c_str(),
                (*catalog)->version().c_str(), (*catalog)->field_count(),
                (*catalog)->purpose_count(), (*catalog)->proto().callers_size());
    return 0;
  }
  if (args.empty()) {
    std::fprintf(stderr, "cdpctl: expected a command; see --help\n");
    return 2;
  }
  const std::string& command = args[0];
  if (command == "generate") return cdp::cdpctl::RunGenerate(args);
  if (command == "auditor") return cdp::cdpctl::RunAuditorCommand(args);
  const bool consent = command == "consent" || command == "verify-receipt";
  const bool multi = consent || command == "import" || command == "profile" || command == "read" || command == "log" || command == "rights";
  if (command != "health" && command != "services" && !multi) {
    std::fprintf(stderr, "cdpctl: unknown command '%s'; see --help\n", command.c_str());
    return 2;
  }
  if (!multi && args.size() != 1) {
    std::fprintf(stderr, "cdpctl: %s takes no arguments; see --help\n", command.c_str());
    return 2;
  }
  std::shared_ptr<grpc::Channel> channel;
  // verify-receipt with --public_key needs no service and no certificate.
  if (command != "verify-receipt" || absl::GetFlag(FLAGS_tls_cert) != "") {
    auto tls = cdp::rpc::LoadTls({absl::GetFlag(FLAGS_tls_cert), absl::GetFlag(FLAGS_tls_key),
                                  absl::GetFlag(FLAGS_tls_ca)});
    if (!tls.ok()) {
      std::fprintf(stderr, "cdpctl: %s\n", std::string(tls.status().message()).c_str());
      return 2;
    }
    channel = cdp::rpc::MakeChannel(absl::GetFlag(FLAGS_target), *tls);
  }
  if (consent) return cdp::cdpctl::RunConsentCommand(args, channel);
  if (command == "import") return cdp::cdpctl::RunImport(args, [&] { return channel; });
  if (command == "profile") return cdp::cdpctl::RunProfileCommand(args, channel);
  if (command == "read") return cdp::cdpctl::RunReadCommand(args, channel);
  if (command == "log") return cdp::cdpctl::RunLogCommand(args, channel);
  if (command == "rights") return cdp::cdpctl::RunRightsCommand(args, channel);
  absl::Duration timeout = absl::GetFlag(FLAGS_timeout);

  if (command == "health") {
    std::string service = absl::GetFlag(FLAGS_service);
    if (absl::Duration wait = absl::GetFlag(FLAGS_wait); wait > absl::ZeroDuration()) {
      absl::Status s = cdp::rpc::WaitUntilServing(*channel, service, wait);
      if (!s.ok()) return Fail(std::string(s.message()));
      std::printf("SERVING\n");
      return 0;
    }
    auto status = cdp::rpc::CheckHealth(*channel, service, timeout);
    if (!status.ok()) return Fail(std::string(status.status().message()));
    std::printf("%s\n", status->c_str());
    return *status == "SERVING" ? 0 : 1;
  }
  auto names = cdp::rpc::ListServices(*channel, timeout);
  if (!names.ok()) return Fail(std::string(names.status().message()));
  for (const std::string& n : *names) std::printf("%s\n", n.c_str());
  return 0;
}
