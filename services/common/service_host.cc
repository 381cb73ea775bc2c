#include "services/common/service_host.h"

#include <cstdio>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "services/common/flags.h"
#include "services/common/log.h"
#include "services/common/metrics.h"

ABSL_FLAG(std::string, listen, "", "address:port for the gRPC server (mTLS only)");
ABSL_FLAG(std::string, metrics_listen, "",
          "address:port for Prometheus metrics over plain HTTP; empty disables them");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate chain of this service");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of this service");
ABSL_FLAG(std::string, tls_ca, "", "PEM CA certificate that signs every client and server");
ABSL_FLAG(std::string, db_dsn, "",
          "libpq connection string for the service's own least-privilege role");
ABSL_FLAG(std::string, db_admin_dsn, "",
          "libpq connection string used only to apply migrations at start-up (default: --db_dsn)");
ABSL_FLAG(int, db_pool_size, 8, "database connections kept open");
ABSL_FLAG(int, drain_seconds, 10, "on SIGTERM, how long in-flight calls may take to finish");
ABSL_FLAG(std::string, log_level, "info", "debug (one line per RPC), info, warning or error");

namespace cdp::server {
namespace {

log::Level ParseLevel(const std::string& name) {
  if (name == "debug") return log::Level::kDebug;
  if (name == "info") return log::Level::kInfo;
  if (name == "warning") return log::Level::kWarning;
  if (name == "error") return log::Level::kError;
  ExitWithConfigError("--log_level must be debug, info, warning or error");
}

}  // namespace

absl::Status ConnectAndMigrate(storage::Pool& pool, const std::string& admin_dsn,
                               const storage::MigrationSet& migrations,
                               const ShutdownSignal& shutdown) {
  absl::Duration backoff = absl::Milliseconds(100);
  for (int attempt = 1;; ++attempt) {
    absl::Status status;
    auto report = storage::ApplyMigrations(admin_dsn, migrations);
    if (report.ok()) {
      log::Info("migrations", {{"schema", migrations.schema},
                               {"applied", report->applied},
                               {"up_to_date", report->up_to_date}});
      status = pool.Connect();
    } else {
      status = report.status();
    }
    if (status.ok()) return status;
    if (status.code() == absl::StatusCode::kFailedPrecondition ||
        status.code() == absl::StatusCode::kInvalidArgument) {
      return status;
    }
    log::Warning("database_not_ready", {{"attempt", attempt},
                                        {"code", absl::StatusCodeToString(status.code())},
                                        {"reason", status.message()},
                                        {"retry_ms", absl::ToInt64Milliseconds(backoff)}});
    if (shutdown.notification().WaitForNotificationWithTimeout(backoff)) {
      return absl::CancelledError("shutdown requested while connecting to the database");
    }
    backoff = std::min(backoff * 2, absl::Seconds(5));
  }
}

Process::Process(const ProcessSpec& spec, int argc, char** argv) : spec_(spec) {
  absl::SetFlag(&FLAGS_listen, absl::StrCat("127.0.0.1:", spec.default_port));
  absl::SetFlag(&FLAGS_metrics_listen, absl::StrCat("127.0.0.1:", spec.default_metrics_port));
  ParseFlagsOrExit(argc, argv, spec.usage);

  log::SetServiceName(spec.name);
  log::SetMinLevel(ParseLevel(absl::GetFlag(FLAGS_log_level)));
  log::CaptureGrpcLogs();

  auto tls = rpc::LoadTls({absl::GetFlag(FLAGS_tls_cert), absl::GetFlag(FLAGS_tls_key),
                           absl::GetFlag(FLAGS_tls_ca)});
  if (!tls.ok()) ExitWithConfigError(std::string(tls.status().message()));
  tls_ = *std::move(tls);
  std::string dsn = absl::GetFlag(FLAGS_db_dsn);
  if (dsn.empty()) ExitWithConfigError("--db_dsn is not set");
  admin_dsn_ = absl::GetFlag(FLAGS_db_admin_dsn);
  if (admin_dsn_.empty()) admin_dsn_ = dsn;
  if (absl::GetFlag(FLAGS_db_pool_size) < 1) ExitWithConfigError("--db_pool_size must be at least 1");
  listen_ = absl::GetFlag(FLAGS_listen);
  drain_seconds_ = absl::GetFlag(FLAGS_drain_seconds);
  if (drain_seconds_ < 0) ExitWithConfigError("--drain_seconds must not be negative");

  registry_ = std::make_shared<prometheus::Registry>();
  if (std::string m = absl::GetFlag(FLAGS_metrics_listen); !m.empty()) {
    auto served = ServeMetrics(m, registry_);
    if (!served.ok()) ExitWithConfigError(std::string(served.status().message()));
    exposer_ = *std::move(served);
  }
  pool_ = std::make_unique<storage::Pool>(storage::PoolOptions{
      .dsn = dsn, .size = absl::GetFlag(FLAGS_db_pool_size), .statements = spec.statements});
}

absl::Status Process::ConnectDatabase() {
  return ConnectAndMigrate(*pool_, admin_dsn_, spec_.migrations, shutdown_);
}

void ExitWithConfigError(const std::string& message) {
  std::fprintf(stderr, "%s: %s\n", program_invocation_short_name, message.c_str());
  std::exit(2);
}

std::string RequiredFlag(const std::string& flag, const std::string& value, const std::string& hint) {
  if (value.empty()) {
    ExitWithConfigError(absl::StrCat("--", flag, " is required", hint.empty() ? "" : absl::StrCat(" (", hint, ")")));
  }
  return value;
}

int RunService(const ServiceSpec& spec, int argc, char** argv) {
  // Debian's abseil checks every Mutex acquisition for lock-order cycles (a debugging aid
  // that showed up in profiles of the read path); the services' lock order is fixed.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  Process process(spec.process, argc, argv);
  RpcMetrics rpc_metrics(process.registry());
  ServiceContext context{process.pool(), process.tls(), process.registry(), process.shutdown()};
  std::unique_ptr<grpc::Service> service = spec.make_service(context);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int bound_port = 0;
  builder.AddListeningPort(process.listen(), rpc::ServerCredentials(process.tls()), &bound_port);
  builder.RegisterService(service.get());
  // The synchronous server runs a handler on the thread that polled its call and, by
  // default, keeps at most two threads polling: with handlers blocked on their
  // neighbours (the read path waits on the log), every call then began and ended a
  // thread, and thread start-up and tear-down dominated the profile. Idle threads stay.
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, 2);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, 64);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
  creators.push_back(MetricsInterceptorFactory(&rpc_metrics));
  builder.experimental().SetInterceptorCreators(std::move(creators));
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || bound_port == 0) {
    ExitWithConfigError(absl::StrCat("--listen ", process.listen(), ": cannot listen on this address"));
  }
  grpc::HealthCheckServiceInterface* health = server->GetHealthCheckService();
  auto set_serving = [&](bool serving) {
    health->SetServingStatus(serving);
    health->SetServingStatus(spec.full_name, serving);
  };
  set_serving(false);
  log::Info("listening", {{"grpc", process.listen()},
                          {"port", bound_port},
                          {"metrics", absl::GetFlag(FLAGS_metrics_listen)},
                          {"grpc_service", spec.full_name}});

  absl::Status ready = process.ConnectDatabase();
  if (ready.ok() && context.before_serving) ready = context.before_serving();
  int exit_code = 0;
  if (ready.ok()) {
    set_serving(true);
    log::Info("serving", {{"grpc_service", spec.full_name}});
    process.shutdown().Wait();
  } else if (ready.code() != absl::StatusCode::kCancelled) {
    log::Error("cannot_start", {{"code", absl::StatusCodeToString(ready.code())},
                                {"reason", ready.message()}});
    exit_code = 1;
  }

  set_serving(false);
  log::Info("draining", {{"deadline_s", process.drain_seconds()}});
  server->Shutdown(std::chrono::system_clock::now() +
                   std::chrono::seconds(process.drain_seconds()));
  server->Wait();
  log::Info("stopped", {{"exit_code", exit_code}});
  return exit_code;
}

}  // namespace cdp::server
