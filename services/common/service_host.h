// The skeleton every gRPC service of the platform runs on.
//
// RunService() does, in order: parse flags (each also from CDP_<NAME>), start JSON-lines
// logging, load the mTLS material (a bad file exits 2 with one line naming it), start the
// gRPC server with mTLS that requires a client certificate from the configured CA, with
// health checking (grpc.health.v1) and server reflection, and Prometheus metrics on HTTP;
// report NOT_SERVING while it connects to PostgreSQL (retrying with back-off) and applies
// the service's migrations; then SERVING until SIGTERM/SIGINT, when it reports NOT_SERVING
// again and drains in-flight calls for up to --drain_seconds before exiting 0.
#ifndef CDP_SERVICES_COMMON_SERVICE_HOST_H_
#define CDP_SERVICES_COMMON_SERVICE_HOST_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "grpcpp/impl/service_type.h"
#include "prometheus/registry.h"
#include "services/common/shutdown.h"
#include "services/common/tls.h"
#include "storage/migrate.h"
#include "storage/pool.h"
#include "prometheus/exposer.h"

namespace cdp::server {

// What every service binary of the platform shares, gRPC or HTTPS: flags, logging, mTLS
// material, the database pool and metrics. Constructing it parses the command line and the
// environment; bad configuration exits 2 with one line naming the flag or file.
struct ProcessSpec {
  std::string name;          // short name: "consent"; names the log and the metrics
  std::string usage;         // first line of --help
  int default_port = 0;      // --listen defaults to 127.0.0.1:<default_port>
  int default_metrics_port = 0;
  storage::MigrationSet migrations;
  std::vector<storage::Statement> statements;  // prepared on every pooled connection
};

class Process {
 public:
  // Call first thing in main(), before any other thread exists (see ShutdownSignal).
  Process(const ProcessSpec& spec, int argc, char** argv);

  ShutdownSignal& shutdown() { return shutdown_; }
  const rpc::TlsMaterial& tls() const { return tls_; }
  // Not connected until ConnectDatabase() returns OK.
  storage::Pool& pool() { return *pool_; }
  prometheus::Registry& registry() { return *registry_; }
  const std::string& listen() const { return listen_; }
  int drain_seconds() const { return drain_seconds_; }
  const ProcessSpec& spec() const { return spec_; }

  // ConnectAndMigrate (below) with this process's flags.
  absl::Status ConnectDatabase();

 private:
  ShutdownSignal shutdown_;
  ProcessSpec spec_;
  rpc::TlsMaterial tls_;
  std::string listen_;
  std::string admin_dsn_;
  int drain_seconds_ = 10;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::unique_ptr<storage::Pool> pool_;
};

// What a gRPC service's handlers get from the skeleton. The pool is not connected when the
// service is built; calls made before the service reports SERVING get Unavailable from it.
struct ServiceContext {
  storage::Pool& pool;
  const rpc::TlsMaterial& tls;
  prometheus::Registry& registry;
  // Requested when the process is told to stop; long-lived streams should end then, since
  // draining waits for them.
  const ShutdownSignal& shutdown;
  // Set by make_service for work that needs the database and must finish before the
  // service reports SERVING (loading an index, a tree); an error stops the process.
  std::function<absl::Status()> before_serving;
};

struct ServiceSpec {
  ProcessSpec process;
  std::string full_name;     // gRPC name for health: "cdp.v1.ConsentService"
  std::function<std::unique_ptr<grpc::Service>(ServiceContext&)> make_service;
};

// Configuration a service cannot run with (a missing or broken file, a flag out of range):
// prints "<program>: <message>" as one line on stderr and exits 2, as flag errors do.
[[noreturn]] void ExitWithConfigError(const std::string& message);

// `value`, the value of flag --`flag`, or ExitWithConfigError("--flag is required (hint)")
// when it is empty.
std::string RequiredFlag(const std::string& flag, const std::string& value, const std::string& hint = "");

// Runs a gRPC service until it is told to stop; returns the process exit code.
int RunService(const ServiceSpec& spec, int argc, char** argv);

// Connects `pool` and applies `migrations` with `admin_dsn`, retrying with exponential
// back-off (100 ms doubling to 5 s) until both succeed or `shutdown` fires. Returns OK when
// ready, Cancelled on shutdown, or FailedPrecondition / InvalidArgument at once for errors a
// retry cannot fix (a changed migration file). Each failed attempt is logged with its reason.
absl::Status ConnectAndMigrate(storage::Pool& pool, const std::string& admin_dsn,
                               const storage::MigrationSet& migrations,
                               const ShutdownSignal& shutdown);

}  // namespace cdp::server

#endif  // CDP_SERVICES_COMMON_SERVICE_HOST_H_
