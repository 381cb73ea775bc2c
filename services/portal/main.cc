// cdp-portal: the customer portal and auditor console over HTTPS.
#include "services/common/log.h"
#include "services/common/service_host.h"
#include "services/portal/https_server.h"
#include "storage/migrations.h"

int main(int argc, char** argv) {
  cdp::server::Process process(
      {.name = "portal",
       .usage = "cdp-portal: the customer portal and auditor console over HTTPS\n"
                "Usage: cdp-portal [flags]",
       .default_port = 8443,
       .default_metrics_port = 9106,
       .migrations = cdp::storage::migrations::portal()},
      argc, argv);

  cdp::portal::HttpsServer server({.listen = process.listen(), .tls = process.tls()});
  server.Handle("GET", "/healthz", [&process](const cdp::portal::HttpRequest&) {
    cdp::portal::HttpResponse r;
    r.content_type = "application/json";
    bool serving = process.pool().connected();
    r.status = serving ? 200 : 503;
    r.body = serving ? "{\"status\":\"SERVING\"}\n" : "{\"status\":\"NOT_SERVING\"}\n";
    return r;
  });
  auto port = server.Start();
  if (!port.ok()) {
    std::fprintf(stderr, "%s: %s\n", argv[0], std::string(port.status().message()).c_str());
    return 2;
  }
  cdp::log::Info("listening", {{"https", process.listen()}, {"port", *port}});

  absl::Status ready = process.ConnectDatabase();
  int exit_code = 0;
  if (ready.ok()) {
    cdp::log::Info("serving", {{"service", "portal"}});
    process.shutdown().Wait();
  } else if (ready.code() != absl::StatusCode::kCancelled) {
    cdp::log::Error("cannot_start", {{"code", absl::StatusCodeToString(ready.code())},
                                     {"reason", ready.message()}});
    exit_code = 1;
  }
  cdp::log::Info("draining", {});
  server.Stop();
  cdp::log::Info("stopped", {{"exit_code", exit_code}});
  return exit_code;
}
