// Prometheus metrics: per-RPC counts and latency histograms for every gRPC service, served
// over plain HTTP on a loopback port for scraping.
#ifndef CDP_SERVICES_COMMON_METRICS_H_
#define CDP_SERVICES_COMMON_METRICS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/support/server_interceptor.h"
#include "prometheus/counter.h"
#include "prometheus/exposer.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace cdp::server {

// Counters and histograms of handled RPCs, labelled by method, status code and calling
// service (the URI SAN of its certificate; a bounded set, as the catalog names callers).
// Thread-safe.
class RpcMetrics {
 public:
  explicit RpcMetrics(prometheus::Registry& registry);

  void Record(const std::string& method, const std::string& code, const std::string& caller,
              double seconds);

 private:
  prometheus::Family<prometheus::Counter>& handled_;
  prometheus::Family<prometheus::Histogram>& latency_;
};

// An interceptor factory that records every RPC into `metrics` (not owned; must outlive
// the server) and writes a debug-level log line per RPC.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MetricsInterceptorFactory(
    RpcMetrics* metrics);

// Serves `registry` at http://<listen>/metrics. Error if the address cannot be bound.
absl::StatusOr<std::unique_ptr<prometheus::Exposer>> ServeMetrics(
    const std::string& listen, std::shared_ptr<prometheus::Registry> registry);

}  // namespace cdp::server

#endif  // CDP_SERVICES_COMMON_METRICS_H_
