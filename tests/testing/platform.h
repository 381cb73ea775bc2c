// Running the platform's own service binaries in end-to-end tests: certificates made by
// deploy/local/pki.sh, and services started on free ports against a test database.
#ifndef CDP_TESTS_TESTING_PLATFORM_H_
#define CDP_TESTS_TESTING_PLATFORM_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/channel.h"
#include "services/common/tls.h"
#include "tests/testing/process.h"
#include "tests/testing/test_database.h"

namespace cdp::testing {

// A development CA with a certificate per identity ("service/consent", "operator/cdpctl"),
// a second unrelated CA standing in for an attacker's (with the same identities), and an
// Ed25519 receipt-signing key. Aborts if the script fails.
class TestPki {
 public:
  explicit TestPki(const std::vector<std::string>& identities);
  const std::string& dir() const { return dir_; }
  const std::string& rogue_dir() const { return rogue_dir_; }
  std::string receipt_key() const { return dir_ + "/receipt-signing.key"; }
  std::string log_key() const { return dir_ + "/log-signing.key"; }
  std::string log_public_key() const { return dir_ + "/log-signing.pub"; }
  std::string master_key() const { return dir_ + "/master.key"; }
  // "service-consent" or "service/consent".
  rpc::TlsMaterial Load(const std::string& identity, bool rogue = false) const;
  std::shared_ptr<grpc::Channel> Channel(int port, const std::string& identity,
                                         bool rogue = false) const;

 private:
  std::string dir_;
  std::string rogue_dir_;
};

struct RunningService {
  std::unique_ptr<ChildProcess> process;
  int port = 0;
  int metrics_port = 0;
};

// Starts service `name` ("consent", ..., "portal") with its own certificate and schema in
// `db`, on `port` (0: a free one). The consent service also gets the default catalog and
// the PKI's receipt key, the ingest service the catalog, the master key and a key store in db.Keys(), the portal an
// outbox of its own, the log's public key and unreachable targets. `extra` flags come last
// and win.
absl::StatusOr<RunningService> StartService(const std::string& name, const TestPki& pki,
                                            const TestDatabase& db,
                                            const std::vector<std::string>& extra = {},
                                            int port = 0);

// StartService, then waits (up to two minutes) until the gRPC service reports SERVING,
// asking as `identity`. The error names the service and carries its output.
absl::StatusOr<RunningService> StartServing(const std::string& name, const TestPki& pki, const TestDatabase& db,
                                            const std::vector<std::string>& extra = {},
                                            const std::string& identity = "operator/cdpctl");

}  // namespace cdp::testing

#endif  // CDP_TESTS_TESTING_PLATFORM_H_
